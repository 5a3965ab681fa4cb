# Renders docs/benchmarks.svg from the figures in docs/benchmarks.md (same-run peer tables):
#   gnuplot docs/benchmarks.gp
set terminal svg size 900,560 dynamic font "sans,11"
set output "docs/benchmarks.svg"
set title "events (2M rows): wall time in seconds, lower is better (2-core machine, same run)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel "seconds"
set logscale y
set yrange [1:120]
set grid ytics
set key top left
set xtics nomirror
$data << EOD
workload                 sluice  duckdb_1t  miller_or_peer  python_or_node
"CSV -> JSONL"           1.91    4.15       14.49           15.37
"JSONL -> CSV"           2.52    3.97       44.70           NaN
"CSV -> JSONL.gz"        6.07    NaN        22.21           NaN
"PG -> CSV.gz"           3.90    NaN        9.92            NaN
"PG -> JSONL.gz"         7.72    NaN        36.6            90.7
"PG -> JSONL.gz -> S3"   7.92    NaN        NaN             90.35
EOD
plot $data using 2:xtic(1) title "sluice", \
     '' using 3 title "DuckDB (1 thread)", \
     '' using 4 title "Miller / jq / mlr|pigz / psql|gzip / psycopg2", \
     '' using 5 title "Python csv+json / Node exporters"
