package salesinsights.sqlguard;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import scala.Function1;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * The SQL endpoint's sessions are read-only: named in spark.sql.extensions, it adds {@link ReadOnlyCheck} to
 * every session's analyzer, so each statement a JDBC or Spark Connect client sends is checked before it runs.
 */
public final class ReadOnlyExtensions extends AbstractFunction1<SparkSessionExtensions, BoxedUnit> {
  @Override
  public BoxedUnit apply(SparkSessionExtensions extensions) {
    extensions.injectCheckRule(new CheckBuilder());
    return BoxedUnit.UNIT;
  }

  private static final class CheckBuilder
      extends AbstractFunction1<SparkSession, Function1<LogicalPlan, BoxedUnit>> {
    @Override
    public Function1<LogicalPlan, BoxedUnit> apply(SparkSession session) {
      return new ReadOnlyCheck(session);
    }
  }
}
