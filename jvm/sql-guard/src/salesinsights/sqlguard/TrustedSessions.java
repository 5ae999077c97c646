package salesinsights.sqlguard;

import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import org.apache.spark.sql.SparkSession;

/**
 * The sessions exempt from the read-only check: the endpoint's own, which registers the lake's tables in the
 * metastore. Only the driver's Python side can add one (through Py4J, with the session object); a client's
 * SQL cannot, and the reflection functions that could call static methods are refused by the check itself.
 */
public final class TrustedSessions {
  private static final Set<SparkSession> TRUSTED =
      Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

  private TrustedSessions() {}

  public static void trust(SparkSession session) {
    TRUSTED.add(session);
  }

  static boolean isTrusted(SparkSession session) {
    return TRUSTED.contains(session);
  }
}
