"""The app as gunicorn serves it in production, plus the bench-only floor endpoint.

The floor blueprint lives here, outside the `clinic` package, so production never registers it.
"""

from bench.floor import bp as floor_bp
from clinic import create_app

app = create_app()
app.config["EXTRA_PUBLIC_ENDPOINTS"] = {"bench_floor.insert_vitals"}
app.register_blueprint(floor_bp)
