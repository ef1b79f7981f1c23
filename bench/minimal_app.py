"""The throughput ceiling: a minimal Flask endpoint serving the same 100 user rows from the same database.

No auth, no parameters, no policy, no paging headers: one query and orjson. Trellis's ``/users?limit=100`` is
measured against it in the same run (``bench/run.py``).
"""

import os

import orjson
from flask import Flask
from flask import Response
from sqlalchemy import create_engine
from sqlalchemy import text

app = Flask(__name__)
engine = create_engine(os.environ["TRELLIS_DATABASE_URL"])
QUERY = text("SELECT sourced_id, status, date_last_modified, doc FROM records "
             "WHERE tenant = :tenant AND type = 'user' ORDER BY sourced_id LIMIT 100")


@app.get("/users")
def users():
    with engine.connect() as conn:
        rows = conn.execute(QUERY, {"tenant": os.environ.get("BENCH_DISTRICT", "bench")}).all()
    records = [{"sourcedId": r.sourced_id, "status": r.status, "dateLastModified": r.date_last_modified,
                **orjson.loads(r.doc)} for r in rows]
    return Response(orjson.dumps({"users": records}), mimetype="application/json")
