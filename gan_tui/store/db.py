"""The run's SQLite file: schema and connection settings shared by writer and reader."""

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS scalars (
    step INTEGER NOT NULL, name TEXT NOT NULL, value REAL, wall REAL,
    PRIMARY KEY (step, name));
CREATE TABLE IF NOT EXISTS progress (
    step INTEGER PRIMARY KEY, it_per_s REAL, images_per_s REAL, elapsed REAL,
    gpu_mem INTEGER, gpu_peak INTEGER);
CREATE TABLE IF NOT EXISTS histograms (
    step INTEGER PRIMARY KEY, kind TEXT, real BLOB, fake BLOB);
CREATE TABLE IF NOT EXISTS samples (
    step INTEGER PRIMARY KEY, png TEXT, npy TEXT);
CREATE TABLE IF NOT EXISTS evaluations (
    step INTEGER PRIMARY KEY, metrics TEXT, wall REAL);
CREATE TABLE IF NOT EXISTS alarms (
    id INTEGER PRIMARY KEY AUTOINCREMENT, step INTEGER, rule TEXT, reason TEXT, since INTEGER, wall REAL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, step INTEGER, kind TEXT, message TEXT, wall REAL);
"""

DB_NAME = "metrics.sqlite"
BUSY_TIMEOUT_MS = 10_000


def connect(run_dir: Path, create: bool = False) -> sqlite3.Connection:
    path = Path(run_dir) / DB_NAME
    if not create and not path.exists():
        raise FileNotFoundError(path)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if create:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.executescript(SCHEMA)
    return conn
