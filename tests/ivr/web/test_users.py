"""Accounts: argon2 hashes (never the password), roles checked, first-run admin with a random
password once, tokens stored as hashes; ``hotline user`` commands audited."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ivr.cli import main
from ivr.store.base import make_engine, session_factory
from ivr.store.migrate import upgrade
from ivr.web.users import (
    ApiToken,
    User,
    UserError,
    add_user,
    check_password,
    create_token,
    ensure_first_admin,
    user_for_token,
)
from tests.ivr.web.conftest import audit_actions

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def empty_db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    monkeypatch.setenv("HOTLINE_KEYRING_FILE", str(tmp_path / "hotline.keys"))
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def test_first_run_makes_one_admin_with_a_random_password(empty_db):
    password = ensure_first_admin(empty_db)
    assert password and len(password) >= 16
    assert ensure_first_admin(empty_db) is None  # once only
    engine = make_engine(empty_db)
    with session_factory(engine).begin() as db:
        admin = db.scalar(select(User))
        assert (admin.name, admin.role) == ("admin", "admin")
        assert password not in admin.password_hash and admin.password_hash.startswith("$argon2id$")
        assert check_password(db, "admin", password) is not None
        assert check_password(db, "admin", password + "x") is None
        assert check_password(db, "nobody", password) is None
    engine.dispose()
    assert ("system", "web_user_created") in audit_actions(empty_db)


def test_roles_names_and_tokens(empty_db):
    engine = make_engine(empty_db)
    now = datetime.now(UTC)
    with session_factory(engine).begin() as db:
        with pytest.raises(UserError, match="unknown role"):
            add_user(db, "x", "root", now)
        add_user(db, "ivanova", "supervisor", now, "long-enough-pw")
        with pytest.raises(UserError, match="exists"):
            add_user(db, "ivanova", "auditor", now)
        with pytest.raises(UserError, match="10 characters"):
            add_user(db, "petrov", "auditor", now, "short")
        token = create_token(db, "ivanova", now)
        assert db.scalar(select(ApiToken.token_hash)) != token
        assert user_for_token(db, token, now).name == "ivanova"
        assert user_for_token(db, token + "x", now) is None
    engine.dispose()


def test_user_commands(empty_db, capsys):
    assert main(["user", "add", "smirnova", "--role", "auditor", "--generate"]) == 0
    out = capsys.readouterr().out
    password = out.split("password (shown once): ", 1)[1].strip()
    assert main(["user", "token", "smirnova"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["user", "add", "smirnova", "--role", "admin", "--generate"]) == 2
    assert main(["user", "list"]) == 0
    assert "smirnova" in capsys.readouterr().out
    engine = make_engine(empty_db)
    with session_factory(engine).begin() as db:
        assert check_password(db, "smirnova", password).role == "auditor"
        assert user_for_token(db, token, datetime.now(UTC)).name == "smirnova"
    engine.dispose()
    actions = audit_actions(empty_db)
    assert ("cli", "web_user_created") in actions and ("cli", "web_token_created") in actions
