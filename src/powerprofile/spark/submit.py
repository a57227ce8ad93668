"""The file to give ``spark-submit``: runs the ``powerprofile`` command line in the driver.

``spark-submit [options] "$(python -c 'import powerprofile.spark.submit as m; print(m.__file__)')"
run --config job.yaml --engine spark`` (see ``docs/scale.md``). The session that
``spark-submit`` configured (master, executors, properties) is the one the job uses.
"""

import sys

if __name__ == "__main__":
    from powerprofile.cli import main

    sys.exit(main(sys.argv[1:]))
