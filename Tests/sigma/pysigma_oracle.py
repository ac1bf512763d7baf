"""pySigma as the independent implementation: a rule converted by pySigma's SQLite backend to SQL,
run over an SQLite table of the events.

The table has one column per Sigma field, named as the field, except `Image`, which execwatch
reads as two attributes (the path as invoked, and the resolved executable): pySigma maps `Image`
to the columns `invokedPath` and `exePath` (a field mapped to two names becomes their OR), so
`Image|endswith: '/nc'` is `invokedPath LIKE '%/nc' OR exePath LIKE '%/nc'` and a negated Image
filter is `NOT (… OR …)`: the value must be in neither path, exactly execwatch's definition, for
positive and negated selections alike. An absent attribute is NULL; the backend wraps every NOT
operand in `COALESCE(…, 0)`, so an absent field never holds and its negation does.

The backend is built with `collate_nocase=True`: its own documentation says literal equality is
SQLite's case-sensitive `=` unless the table's columns are NOCASE or this option is set (LIKE is
case-insensitive already), and Sigma values are case-insensitive. `REGEXP` is a function the
consumer must provide; here it is Python's `re.search` (case-sensitive, as Sigma's `re`).
"""
import re
import sqlite3

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation

from sigma_events import ROW_COLUMNS, as_row

NUMERIC_COLUMNS = {"LogonId", "ProcessId", "ParentProcessId"}


def backend():
    pipeline = ProcessingPipeline(
        name="execwatch event attributes",
        items=[ProcessingItem(FieldMappingTransformation({"Image": ["invokedPath", "exePath"]}))],
    )
    return sqliteBackend(processing_pipeline=pipeline, collate_nocase=True)


def convert(rule_text):
    """The rule's SQL queries (one per rule document)."""
    return backend().convert(SigmaCollection.from_yaml(rule_text))


def regexp(pattern, value):
    if value is None:
        return None
    return re.search(pattern, str(value)) is not None


def matching_ids(queries, events):
    """The numbers of the events any of the queries selects."""
    db = sqlite3.connect(":memory:")
    db.create_function("REGEXP", 2, regexp, deterministic=True)
    columns = ", ".join(f"{c} {'INTEGER' if c in NUMERIC_COLUMNS else 'TEXT'}" for c in ROW_COLUMNS)
    db.execute(f"CREATE TABLE logs (id INTEGER PRIMARY KEY, {columns})")
    db.executemany(f"INSERT INTO logs VALUES ({', '.join('?' * (len(ROW_COLUMNS) + 1))})",
                   [as_row(number, event) for number, event in events])
    found = set()
    for query in queries:
        found |= {row[0] for row in db.execute(f"SELECT id FROM ({query})")}
    db.close()
    return found
