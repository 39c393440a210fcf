"""Training of the extractive answerer's models from DRCD and CMRC 2018 (never imported by rag/)."""
