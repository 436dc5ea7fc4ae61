import re
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, hotp_value
from crm.tests.factories import PASSWORD

def dump(name, r):
    html = r.content.decode()
    m = re.search(r"<main.*?</main>", html, re.S)
    print("=====", name, r.status_code, r.get("Location"))
    print(re.sub(r"\n\s*\n+", "\n", m.group(0) if m else html[:3000]))

def test_dump(client, admin):
    client.post("/accounts/login/", {"login": admin.email, "password": PASSWORD})
    dump("reauth", client.get("/accounts/reauthenticate/?next=/accounts/2fa/totp/activate/"))
    dump("reauth_post", client.post("/accounts/reauthenticate/?next=/accounts/2fa/totp/activate/", {"password": PASSWORD}))
    r = client.get("/accounts/2fa/totp/activate/")
    html = r.content.decode()
    html = re.sub(r'src="data:[^"]+"', 'src="data:..."', html)
    m = re.search(r"<main.*?</main>", html, re.S)
    print(re.sub(r"\n\s*\n+", "\n", m.group(0)))
    dump("activate_bad", client.post("/accounts/2fa/totp/activate/", {"code": "000000"}))
    client.post("/accounts/logout/")
    TOTP.activate(admin, generate_totp_secret())
    r = client.post("/accounts/login/", {"login": admin.email, "password": PASSWORD})
    print(r.status_code, r.get("Location"))
    dump("mfa_auth", client.get("/accounts/2fa/authenticate/"))
    dump("mfa_auth_bad", client.post("/accounts/2fa/authenticate/", {"code": "000000"}))
