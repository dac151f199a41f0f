"""Settings, schedules, demo seeding and production checks."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_q.models import Schedule

from integration.schedules import schedule_definitions

ROOT = Path(__file__).resolve().parents[2]


def test_setup_schedules_is_idempotent(db):
    call_command("setup_schedules", stdout=io.StringIO())
    first = list(Schedule.objects.values_list("name", "func", "minutes").order_by("name"))
    Schedule.objects.create(name="left over from an old release", func="os.getcwd", schedule_type="I")
    call_command("setup_schedules", stdout=io.StringIO())
    second = list(Schedule.objects.values_list("name", "func", "minutes").order_by("name"))
    assert first == second
    assert len(second) == len(schedule_definitions())


def test_django_q_timeout_is_shorter_than_retry(settings):
    assert settings.Q_CLUSTER["timeout"] < settings.Q_CLUSTER["retry"]
    assert settings.Q_CLUSTER["max_attempts"] > 0


def test_seed_demo_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", users_only=True)


def test_seed_demo_creates_one_user_per_role(db, settings):
    from django.contrib.auth import get_user_model

    settings.DEBUG = True
    call_command("seed_demo", users_only=True, stdout=io.StringIO())
    users = get_user_model().objects.filter(username__in=["ops", "finance", "admin"])
    assert {u.username: sorted(u.groups.values_list("name", flat=True)) for u in users} == {
        "ops": ["ops"],
        "finance": ["finance"],
        "admin": ["admin"],
    }


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    # The browser tests relax Django's async guard for their own process; production never does.
    env = {k: v for k, v in env.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 64 + "-production-like-secret-for-the-check",
        "ALLOWED_HOSTS": "tillbridge.example.com",
        "TILLBRIDGE_VAR_DIR": str(tmp_path),
    }
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "", "TILLBRIDGE_VAR_DIR": str(tmp_path)}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
