"""The yardstick: a bare Flask app serving a page of the same size as the portal's home."""

from flask import Flask

app = Flask(__name__)
BODY = "<!doctype html><html lang='ko'><title>bare</title><p>" + "가" * 800 + "</p></html>"


@app.get("/")
def home():
    return BODY


@app.get("/healthz")
def healthz():
    return "ok"
