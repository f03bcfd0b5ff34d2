"""A bare endpoint doing the inserts of a vitals POST with no auth, form or ORM: the floor."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from flask import Blueprint, current_app

from clinic.audit import GENESIS_HASH, chain_hash
from clinic.extensions import csrf, db

bp = Blueprint("bench_floor", __name__)


@bp.route("/bench/floor/<int:admission_id>", methods=["POST"])
@csrf.exempt
def insert_vitals(admission_id: int):
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else now
    # The same engine (so the same BEGIN IMMEDIATE and write lock), but raw SQL on its connection.
    with db.engine.begin() as conn:
        raw = conn.connection.driver_connection
        cursor = raw.cursor()
        marker = "?" if db.engine.dialect.name == "sqlite" else "%s"
        cursor.execute(
            "INSERT INTO vital_signs (admission_id, observed_at, recorded_at, is_late, "
            "idempotency_key, recorded_by_id, heart_rate, systolic_bp, diastolic_bp, "
            "respiratory_rate, temperature_tenths, spo2, spo2_scale, on_oxygen, consciousness, "
            "confirmed_extreme, news2_total, news2_band, news2_points, flags) VALUES "
            f"({', '.join([marker] * 20)})",
            (admission_id, stamp, stamp, False, uuid.uuid4().hex, 1, 80, 125, 80, 16, 370, 97, 1,
             False, "A", False, 0, "low", "{}", "{}"),
        )
        cursor.execute("SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
        previous = row[0] if row else GENESIS_HASH
        content = json.dumps({"floor": admission_id, "at": now.isoformat()})
        cursor.execute(
            "INSERT INTO audit_event (occurred_at, action, object_type, detail, prev_hash, hash) "
            f"VALUES ({', '.join([marker] * 6)})",
            (stamp, "create", "vitals", content, previous,
             chain_hash(current_app.config["AUDIT_HMAC_KEY"].encode(), previous, content)),
        )
    return "", 201
