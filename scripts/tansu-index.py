"""Adds the index tansu 0.6's sqlite schema lacks (see scripts/stack.sh).

Usage: tansu-index.py PATH/tansu.db -- waits up to 10 s for tansu to create
its schema, then creates the index if it is missing.
"""
import sqlite3
import sys
import time

db = sqlite3.connect(sys.argv[1], timeout=30)
for _ in range(100):
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'header'").fetchone():
        db.execute("CREATE INDEX IF NOT EXISTS wirestream_header_record ON header (topition, offset_id)")
        db.commit()
        sys.exit(0)
    time.sleep(0.1)
sys.exit(f"tansu did not create its schema in {sys.argv[1]}")
