"""Admins manage units, users and the procedure catalogue through the web pages."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Procedure, Unit, User

from .conftest import csrf_token, login


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def test_admin_creates_and_renames_a_unit(client, world):
    login(client, "admin")
    assert _post(client, "/admin/units/new", code="000.07.21.h48", name="Trung tâm Ứng dụng").status_code == 302
    unit = db.session.scalars(select(Unit).where(Unit.code == "000.07.21.H48")).one()
    bad = _post(client, "/admin/units/new", code="7", name="X")
    assert "QCVN 102:2016" in bad.get_data(as_text=True)
    dup = _post(client, "/admin/units/new", code="000.07.21.H48", name="X")
    assert "đã tồn tại" in dup.get_data(as_text=True)
    # The code never changes, whatever is posted.
    _post(client, f"/admin/units/{unit.id}", code="000.08.21.H48", name="Trung tâm Ứng dụng tiến bộ KH&CN", active="y")
    db.session.refresh(unit)
    assert unit.code == "000.07.21.H48" and unit.name == "Trung tâm Ứng dụng tiến bộ KH&CN"


def test_admin_creates_users_bound_to_unit_or_holder(client, world):
    login(client, "admin")
    response = _post(client, "/admin/users/new", username="CanBo.Moi", full_name="Cán bộ mới", role="staff",
                     unit_code="000.02.21.H48", password="mat-khau-du-dai")
    assert response.status_code == 302
    staff = db.session.scalars(select(User).where(User.username == "canbo.moi")).one()
    assert staff.unit.code == "000.02.21.H48" and staff.check_password("mat-khau-du-dai")
    holder = _post(client, "/admin/users/new", username="dn1", role="holder", holder_id="0100112438",
                   password="mat-khau-du-dai")
    assert "chữ số kiểm tra" in holder.get_data(as_text=True)
    short = _post(client, "/admin/users/new", username="dn1", role="holder", holder_id="0100112437", password="ngan")
    assert "ít nhất 10 ký tự" in short.get_data(as_text=True)
    assert not db.session.scalars(select(User).where(User.username == "dn1")).first()

    # Deactivating a user; an admin cannot lock themselves out.
    _post(client, f"/admin/users/{staff.id}", role="staff", unit_code="000.02.21.H48", full_name="Cán bộ mới")
    db.session.refresh(staff)
    assert staff.active is False
    admin = world["admin"]
    me = _post(client, f"/admin/users/{admin.id}", role="admin", full_name="Quản trị")
    assert "Không thể tự khóa" in me.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active


def test_admin_maintains_the_procedure_catalogue(client, world):
    login(client, "admin")
    response = _post(client, "/admin/procedures/new", code="1.004228", field="Hoạt động khoa học và công nghệ",
                     name="Đăng ký thành lập tổ chức khoa học và công nghệ", retention_years="")
    assert response.status_code == 302
    procedure = db.session.scalars(select(Procedure).where(Procedure.code == "1.004228")).one()
    assert procedure.retention_years is None
    assert "định dạng" in _post(client, "/admin/procedures/new", code="1.04228", field="x",
                                name="y").get_data(as_text=True)
    _post(client, f"/admin/procedures/{procedure.id}", code=procedure.code, field=procedure.field,
          name=procedure.name, retention_years="50")
    db.session.refresh(procedure)
    assert procedure.retention_years == 50
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target == "1.004228")).all()
    assert actions == ["procedure.create", "procedure.update"]
