import sys

from cluster.run import main

sys.exit(main())
