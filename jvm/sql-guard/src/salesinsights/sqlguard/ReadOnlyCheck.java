package salesinsights.sqlguard;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.SubqueryExpression;
import org.apache.spark.sql.catalyst.plans.logical.Command;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import scala.Option;
import scala.collection.immutable.Map$;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * Refuses, with a message that says why, every analysed plan of an untrusted session that could change the
 * lake or run a client's code: any command but the ones that only read (SHOW, DESCRIBE, EXPLAIN, SET, USE),
 * streaming and batch writes, and user code (Python, Scala and Java functions, Pandas/Arrow maps, typed
 * closures, reflection). Queries — SELECT, WITH, VALUES, table functions over the lake — pass.
 *
 * <p>Classes are matched by simple name: the command classes of Spark, Delta and Hive differ between
 * versions and packages, while their naming (ShowTablesCommand, DescribeDeltaHistory, ...) is stable. What is
 * not recognised as reading is refused.
 */
final class ReadOnlyCheck extends AbstractFunction1<LogicalPlan, BoxedUnit> {
  static final String REFUSED = "The SalesInsights SQL endpoint is read-only";

  private static final Pattern READING_COMMAND =
      Pattern.compile("^(Show|Describe|Explain).*|^(Set|Reset)(Command|CatalogAndNamespace|NamespaceCommand|CatalogCommand)$");
  private static final Pattern WRITING_PLAN =
      Pattern.compile("^(WriteTo|InsertInto|AppendData|Overwrite|ReplaceData|WriteDelta|MergeInto|DeleteFrom|Update).*");
  private static final Pattern CLIENT_CODE_PLAN =
      Pattern.compile(".*(Pandas|Arrow|Python|InR|InRWithArrow).*|^(MapElements|MapPartitions|AppendColumns|MapGroups|FlatMapGroupsWithState|CoGroup|TypedFilter|TransformWithState)$");
  private static final Set<String> CLIENT_CODE_EXPRESSIONS =
      Set.of("ScalaUDF", "ScalaUDAF", "ScalaAggregator", "CallMethodViaReflection", "TryReflect");

  private final SparkSession session;

  ReadOnlyCheck(SparkSession session) {
    this.session = session;
  }

  @Override
  public BoxedUnit apply(LogicalPlan plan) {
    if (!TrustedSessions.isTrusted(session)) {
      check(plan);
    }
    return BoxedUnit.UNIT;
  }

  private static void check(LogicalPlan plan) {
    String name = plan.getClass().getSimpleName();
    if (plan instanceof Command && !READING_COMMAND.matcher(name).matches()) {
      throw refused("it runs queries only; " + describe(plan) + " would change the lake or the catalogue");
    }
    if (WRITING_PLAN.matcher(name).matches()) {
      throw refused("it runs queries only; " + describe(plan) + " would write");
    }
    if (CLIENT_CODE_PLAN.matcher(name).matches() && !runsDeltasFunction(plan)) {
      throw refused("it runs no client code; " + name + " would run a client's function on the server");
    }
    for (Expression expression : CollectionConverters.asJava(plan.expressions())) {
      checkExpression(expression);
    }
    for (LogicalPlan child : CollectionConverters.asJava(plan.children())) {
      check(child);
    }
  }

  /**
   * Whether the node's function (a ScalaUDF's, a typed map's closure) is Delta's own: Delta reads a table's
   * log with such plans in the client's session. Found by the accessor Spark gives them, `func` or
   * `function`; Delta's by its package and by the loader of the application's classpath, which a class a
   * Spark Connect client uploads (loaded by its session's loader) does not have, whatever its name.
   */
  private static boolean runsDeltasFunction(Object node) {
    for (String accessor : new String[] {"func", "function"}) {
      try {
        Object function = node.getClass().getMethod(accessor).invoke(node);
        if (function == null || function.getClass().getClassLoader() != ReadOnlyCheck.class.getClassLoader()) {
          return false;
        }
        String name = function.getClass().getName();
        return name.startsWith("org.apache.spark.sql.delta.") || name.startsWith("io.delta.");
      } catch (ReflectiveOperationException notThisOne) {
        // The next accessor.
      }
    }
    return false;
  }

  private static void checkExpression(Expression expression) {
    String name = expression.getClass().getSimpleName();
    boolean clientCode = CLIENT_CODE_EXPRESSIONS.contains(name) && !runsDeltasFunction(expression);
    if (clientCode || name.toLowerCase(Locale.ROOT).contains("python")) {
      throw refused("it runs no client code; " + expression.prettyName() + " would run code on the server");
    }
    if (expression instanceof SubqueryExpression) {
      check(((SubqueryExpression) expression).plan());
    }
    for (Expression child : CollectionConverters.asJava(expression.children())) {
      checkExpression(child);
    }
  }

  private static String describe(LogicalPlan plan) {
    String name = plan.nodeName();
    return name.replaceAll("(Command|Statement|Exec)$", "").replaceAll("([a-z])([A-Z])", "$1 $2").toUpperCase(Locale.ROOT);
  }

  /**
   * Thrown as an AnalysisException, what clients show as an error in the statement (Java calls it checked;
   * Scala, which calls the check, does not).
   */
  private static RuntimeException refused(String why) {
    return ReadOnlyCheck.<RuntimeException>uncheckedly(new AnalysisException(
        REFUSED + ": " + why + ". Write through the platform's pipelines instead.",
        Option.empty(),
        Option.empty(),
        Option.empty(),
        Option.empty(),
        Map$.MODULE$.empty(),
        new org.apache.spark.QueryContext[0]));
  }

  @SuppressWarnings("unchecked")
  private static <T extends Throwable> RuntimeException uncheckedly(Throwable thrown) throws T {
    throw (T) thrown;
  }
}
