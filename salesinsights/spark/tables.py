"""The catalogue's tables in Spark: their schemas as Spark types, and their creation."""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from salesinsights.catalog import MONEY, Table, engine_type
from salesinsights.settings import Settings

_PRIMITIVES: dict[str, T.DataType] = {
    "string": T.StringType(),
    "long": T.LongType(),
    "integer": T.IntegerType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "binary": T.BinaryType(),
}


def spark_type(delta_type: str) -> T.DataType:
    """The Spark type of a catalogue type name."""
    return engine_type(delta_type, _PRIMITIVES, T.DecimalType, T.ArrayType, T.MapType, _struct)


def _struct(fields: list[tuple[str, T.DataType]]) -> T.StructType:
    return T.StructType([T.StructField(name, type_) for name, type_ in fields])


SPARK_MONEY = spark_type(MONEY)


def spark_schema(table: Table) -> T.StructType:
    return T.StructType(
        [T.StructField(column.name, spark_type(column.type), column.nullable) for column in table.columns]
    )


def commented_schema(table: Table) -> T.StructType:
    """The schema with each column's comment in its metadata, where Delta keeps it for DESCRIBE, the SQL
    endpoint and BI tools; writers' frames need none (Delta keeps a table's comments on every write)."""
    return T.StructType(
        [
            T.StructField(field.name, field.dataType, field.nullable, {"comment": column.comment})
            for field, column in zip(spark_schema(table).fields, table.columns, strict=True)
        ]
    )


def sql_string(text: str) -> str:
    """The text as a Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ensure_table(spark: SparkSession, settings: Settings, table: Table) -> None:
    """Creates the table at its path unless it exists (safe to call from several processes), with the
    table's and the columns' comments, and adds the columns that a table created by an earlier release lacks
    (their values are null in older rows)."""
    schema = commented_schema(table)
    builder = (
        DeltaTable.createIfNotExists(spark)
        .location(table.path(settings))
        .addColumns(schema)
        .comment(table.description)
    )
    if table.partition_by:
        builder = builder.partitionedBy(*table.partition_by)
    builder.execute()
    stored = DeltaTable.forPath(spark, table.path(settings)).toDF().schema.fieldNames()
    missing = [field for field in schema.fields if field.name not in stored]
    if missing:
        columns = ", ".join(
            f"{field.name} {field.dataType.simpleString()} COMMENT {sql_string(field.metadata['comment'])}"
            for field in missing
        )
        spark.sql(f"ALTER TABLE delta.`{table.path(settings)}` ADD COLUMNS ({columns})")
