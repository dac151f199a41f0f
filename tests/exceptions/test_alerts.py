import http.server
import json
import threading

import pytest
from django.core import mail

from exceptions.alerts import alerts_send, digest_send
from exceptions.models import ExceptionGroup
from tests.exceptions.factories import blocked_by_location, blocked_by_sku
from tests.factories import PosSourceFactory


@pytest.fixture
def slack():
    """A real HTTP server on loopback standing in for a Slack-compatible incoming webhook."""
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_one_message_per_critical_group_never_per_transaction(db, settings, slack):
    url, received = slack
    settings.ALERT_EMAILS = ["ops@example.com"]
    settings.ALERT_WEBHOOK_URL = url
    source = PosSourceFactory()
    blocked_by_location(source, n=30)
    blocked_by_sku(source, n=5)
    result = alerts_send(delay_age_minutes=60)
    assert result["groups"] == 2
    assert len(mail.outbox) == 2 and len(received) == 2
    assert "30 transaction(s) blocked" in mail.outbox[0].body + mail.outbox[1].body
    # Already announced: nothing more, however many transactions pile up.
    blocked_by_location(source, n=10)
    assert alerts_send(delay_age_minutes=60)["groups"] == 0
    assert len(received) == 2


def test_daily_digest_summarises_open_groups(db, settings):
    settings.ALERT_EMAILS = ["finance@example.com"]
    blocked_by_location(PosSourceFactory(), n=3)
    assert digest_send() == 1
    assert "1 open exception group(s)" in mail.outbox[0].body
    ExceptionGroup.objects.update(status="resolved")
    assert digest_send() == 0
