"""Counting SQL statements in a way that holds on SQLite too: SQLite splits a large bulk
insert into batches of at most 999 parameters, so consecutive INSERTs into one table count
as one statement (on PostgreSQL they are one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.test.utils import CaptureQueriesContext

INSERT = re.compile(r'^INSERT INTO "?(\w+)"?')


def logical_statements(ctx: CaptureQueriesContext) -> list[str]:
    merged: list[str] = []
    for query in ctx.captured_queries:
        sql = query["sql"]
        match = INSERT.match(sql)
        key = f"INSERT {match.group(1)}" if match else sql
        if match and merged and merged[-1] == key:
            continue
        merged.append(key)
    return merged


class Counter:
    count: int = 0
    statements: list[str]


@contextmanager
def count_statements() -> Iterator[Counter]:
    counter = Counter()
    with CaptureQueriesContext(connection) as ctx:
        yield counter
    counter.statements = logical_statements(ctx)
    counter.count = len(counter.statements)
