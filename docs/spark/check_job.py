"""An example Spark job: check every record of a Parquet file with redflag's rules.

    spark-submit --master 'local[2]' docs/spark/check_job.py records.parquet results.parquet

Each flag is a column (boolean, or a number type; null is unknown); other columns are kept.
The results add level, worst_case, matched, could_escalate and the rule set's id, version
and sha256. Needs `pip install 'redflag[spark]'` where the driver runs.
"""

import sys

from pyspark.sql import SparkSession

from redflag.spark import check_dataframe

source, target = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.appName("redflag-check").getOrCreate()
results = check_dataframe(spark.read.parquet(source))
results.write.mode("overwrite").parquet(target)
results.groupBy("level").count().orderBy("count", ascending=False).show()
spark.stop()
