package salesinsights.sqlguard;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import javax.security.sasl.AuthenticationException;
import org.apache.hive.service.auth.PasswdAuthenticationProvider;

/**
 * The JDBC/ODBC endpoint's password check (HiveServer2's CUSTOM authentication), on when the platform's
 * settings give the SQL endpoint a password: any user name, that password. The password reaches the JVM in
 * its environment ({@link #PASSWORD_VARIABLE}), set by the endpoint's launcher, never in a file or the
 * Spark configuration that clients can list.
 */
public final class PasswordAuthentication implements PasswdAuthenticationProvider {
  static final String PASSWORD_VARIABLE = "SQLGUARD_PASSWORD";

  private final byte[] expected;

  public PasswordAuthentication() {
    String password = System.getenv(PASSWORD_VARIABLE);
    if (password == null || password.isEmpty()) {
      throw new IllegalStateException(PASSWORD_VARIABLE + " is not set: the endpoint has no password to check");
    }
    expected = password.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void Authenticate(String user, String password) throws AuthenticationException {
    byte[] given = password == null ? new byte[0] : password.getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(expected, given)) {
      throw new AuthenticationException("wrong password for the SalesInsights SQL endpoint (user " + user + ")");
    }
  }
}
