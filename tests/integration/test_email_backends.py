"""Email goes through a real SMTP conversation in tests and production, and to files or the console in development."""

import pytest

from marketplace.email import send_email


class _User:
    full_name = "Jo Bloggs"
    email = "jo@example.org"


def test_smtp_backend_delivers_over_a_real_smtp_conversation(app, mailbox):
    with app.test_request_context():
        send_email("jo@example.org", "Confirm your email address", "verify_email", user=_User, link="http://x/verify/abc")
    assert mailbox.to("jo@example.org")[0]["Subject"] == "Confirm your email address"
    assert "http://x/verify/abc" in mailbox.last_body("jo@example.org")


@pytest.fixture()
def app_overrides(tmp_path, request):
    if request.node.get_closest_marker("file_backend"):
        return {"MAIL_BACKEND": "file", "MAIL_FILE_DIR": str(tmp_path / "mail")}
    return {}


@pytest.mark.file_backend
def test_file_backend_writes_one_eml_file_per_message(app, tmp_path, capsys):
    with app.test_request_context():
        send_email("jo@example.org", "Reset your password", "reset_password", user=_User, link="http://x/reset/abc")
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    assert "Subject: Reset your password" in files[0].read_text()
    assert "http://x/reset/abc" in capsys.readouterr().out
