"""`python -m train`: build the training data, fit the answerer's models, write them."""

import sys

from train.run import main

sys.exit(main())
