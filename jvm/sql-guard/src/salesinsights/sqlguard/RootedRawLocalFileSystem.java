package salesinsights.sqlguard;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * Hadoop's raw local file system, refusing to read a file outside the roots named in {@link #READABLE_KEY}
 * (the lake, the endpoint's own folders: not the platform's passwords, nor /etc) and every change outside
 * those in {@link #WRITABLE_KEY}.
 */
final class RootedRawLocalFileSystem extends RawLocalFileSystem {
  static final String READABLE_KEY = "salesinsights.sql.readable.roots";
  static final String WRITABLE_KEY = "salesinsights.sql.writable.roots";

  private final List<String> readable = new ArrayList<>();
  private final List<String> writable = new ArrayList<>();

  @Override
  public void initialize(URI uri, Configuration conf) throws IOException {
    super.initialize(uri, conf);
    for (String root : conf.getTrimmedStrings(WRITABLE_KEY)) {
      writable.add(normalized(new File(root)));
    }
    for (String root : conf.getTrimmedStrings(READABLE_KEY)) {
      readable.add(normalized(new File(root)));
    }
    readable.addAll(writable);
  }

  private static String normalized(File file) {
    return file.getAbsoluteFile().toPath().normalize().toString();
  }

  private void check(Path path, List<String> roots, String verb) throws IOException {
    String target = normalized(pathToFile(path));
    for (String root : roots) {
      if (target.equals(root) || target.startsWith(root + File.separator)) {
        return;
      }
    }
    throw new AccessDeniedException(
        target, null, ReadOnlyCheck.REFUSED + ": it " + verb + " only under " + String.join(", ", roots));
  }

  private void guard(Path path) throws IOException {
    check(path, writable, "writes");
  }

  @Override
  public FSDataInputStream open(Path f, int bufferSize) throws IOException {
    check(f, readable, "reads");
    return super.open(f, bufferSize);
  }

  @Override
  public FSDataOutputStream append(Path f, int bufferSize, Progressable progress) throws IOException {
    guard(f);
    return super.append(f, bufferSize, progress);
  }

  @Override
  public FSDataOutputStream create(
      Path f, boolean overwrite, int bufferSize, short replication, long blockSize, Progressable progress)
      throws IOException {
    guard(f);
    return super.create(f, overwrite, bufferSize, replication, blockSize, progress);
  }

  @Override
  public FSDataOutputStream create(
      Path f,
      FsPermission permission,
      boolean overwrite,
      int bufferSize,
      short replication,
      long blockSize,
      Progressable progress)
      throws IOException {
    guard(f);
    return super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
  }

  @Override
  public FSDataOutputStream createNonRecursive(
      Path f,
      FsPermission permission,
      EnumSet<CreateFlag> flags,
      int bufferSize,
      short replication,
      long blockSize,
      Progressable progress)
      throws IOException {
    guard(f);
    return super.createNonRecursive(f, permission, flags, bufferSize, replication, blockSize, progress);
  }

  @Override
  public FSDataOutputStream createNonRecursive(
      Path f,
      FsPermission permission,
      boolean overwrite,
      int bufferSize,
      short replication,
      long blockSize,
      Progressable progress)
      throws IOException {
    guard(f);
    return super.createNonRecursive(f, permission, overwrite, bufferSize, replication, blockSize, progress);
  }

  @Override
  public boolean rename(Path src, Path dst) throws IOException {
    guard(src);
    guard(dst);
    return super.rename(src, dst);
  }

  @Override
  public boolean truncate(Path f, long newLength) throws IOException {
    guard(f);
    return super.truncate(f, newLength);
  }

  @Override
  public boolean delete(Path p, boolean recursive) throws IOException {
    guard(p);
    return super.delete(p, recursive);
  }

  @Override
  public boolean mkdirs(Path f) throws IOException {
    guard(f);
    return super.mkdirs(f);
  }

  @Override
  public boolean mkdirs(Path f, FsPermission permission) throws IOException {
    guard(f);
    return super.mkdirs(f, permission);
  }

  @Override
  public void concat(Path trg, Path[] psrcs) throws IOException {
    guard(trg);
    for (Path src : psrcs) {
      guard(src);
    }
    super.concat(trg, psrcs);
  }

  @Override
  public void setPermission(Path p, FsPermission permission) throws IOException {
    guard(p);
    super.setPermission(p, permission);
  }

  @Override
  public void setOwner(Path p, String username, String groupname) throws IOException {
    guard(p);
    super.setOwner(p, username, groupname);
  }

  @Override
  public void setTimes(Path p, long mtime, long atime) throws IOException {
    guard(p);
    super.setTimes(p, mtime, atime);
  }

  @Override
  public void createSymlink(Path target, Path link, boolean createParent) throws IOException {
    guard(link);
    super.createSymlink(target, link, createParent);
  }
}
