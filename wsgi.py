"""WSGI entry point: `gunicorn wsgi:app`; the configuration comes from CLINIC_CONFIG."""

from clinic import create_app

app = create_app()
