"""`spark-submit`'s entry point: `spark-submit [Spark options] <this file> DIR [lake run options]`.

It is `shipgauge lake run DIR --engine spark`, with the master (and every other Spark option)
left to spark-submit. docs/scale.md gives the command.
"""

from __future__ import annotations

import sys

from shipgauge.cli import main

if __name__ == "__main__":
    # An empty --master takes spark-submit's own instead of the spark_master setting.
    sys.argv = ["shipgauge", "lake", "run", *sys.argv[1:], "--engine", "spark", "--master", ""]
    main()
