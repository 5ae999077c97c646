package salesinsights.sqlguard;

import org.apache.hadoop.fs.LocalFileSystem;

/**
 * The local file system (fs.file.impl) of the SQL endpoint: reads the lake and its own folders, writes only
 * under the latter (its metastore and warehouse). A second wall behind {@link ReadOnlyCheck}: whatever
 * reached the file system through a path the check did not foresee still cannot change the lake.
 */
public final class ReadOnlyLocalFileSystem extends LocalFileSystem {
  public ReadOnlyLocalFileSystem() {
    super(new RootedRawLocalFileSystem());
  }
}
