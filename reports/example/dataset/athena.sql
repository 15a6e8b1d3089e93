-- Replace s3://YOUR-BUCKET/cachelens/ with where the report lives
-- (cachelens report --out s3://… writes it filled in).
CREATE EXTERNAL TABLE IF NOT EXISTS cachelens_steps (
  `build_id` string COMMENT 'The CodeBuild build id (`project:uuid`), else `<source>#<build_index>`',
  `source` string COMMENT 'Where the log was read',
  `build_index` int COMMENT 'The index of the BuildKit build in its log (a CI run can build several images)',
  `vertex` int COMMENT 'The vertex number BuildKit gave the step',
  `project` string COMMENT 'The CodeBuild project (`-` when unknown)',
  `branch` string COMMENT 'The branch built, when known',
  `started_at` timestamp COMMENT 'When the run of the log started (UTC, microseconds)',
  `day` date COMMENT 'Its day (UTC)',
  `step_key` string COMMENT 'The identity of the step across builds: instruction and arguments, without stage prefix',
  `name` string COMMENT 'The vertex name as BuildKit printed it',
  `status` string COMMENT '`cached`, `done`, `error`, `canceled` or `incomplete`',
  `seconds` double COMMENT 'Its `DONE` time, when BuildKit printed one',
  `cacheable` boolean COMMENT 'Whether the cache could have served it (a Dockerfile instruction other than FROM)',
  `cached` boolean COMMENT 'Cacheable and served by the cache',
  `median_seconds` double COMMENT 'The median executed time of its step key in the project',
  `samples` bigint COMMENT 'How many executed runs that median is of',
  `saved_seconds` double COMMENT 'When cached, the time it saved (its median)',
  `saved_unknown` boolean COMMENT 'Cached, but its key never executed: time saved unknown'
)
PARTITIONED BY (`week` date COMMENT 'The Monday of the ISO week the run started in (UTC): the folder `week=YYYY-MM-DD` (`__HIVE_DEFAULT_PARTITION__` when unknown)')
STORED AS PARQUET
LOCATION 's3://YOUR-BUCKET/cachelens/dataset/steps/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.week.type' = 'date',
  'projection.week.format' = 'yyyy-MM-dd',
  'projection.week.range' = '2020-01-06,NOW',
  'projection.week.interval' = '7',
  'projection.week.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://YOUR-BUCKET/cachelens/dataset/steps/week=${week}/'
);
