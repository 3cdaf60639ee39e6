from omni_chassis.db import connect_args


def test_no_tls_on_loopback_unless_asked():
    assert connect_args("postgresql://u:p@127.0.0.1:5432/x") == {"ssl": False}
    assert connect_args("postgresql+asyncpg://u:p@localhost/x") == {"ssl": False}
    assert connect_args("postgresql://u:p@127.0.0.1/x?sslmode=require") == {}
    assert connect_args("postgresql://u:p@db.internal:5432/x") == {}
