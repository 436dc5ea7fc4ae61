import re
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, hotp_value
from crm.tests.factories import PASSWORD, SubscriberFactory, AccountFactory
from crm.services import subscriber_suspend

def dump(name, r):
    html = r.content.decode()
    m = re.search(r"<main.*?</main>", html, re.S)
    open("/tmp/scratch/"+name+".html","w").write(html)
    print("=====", name, r.status_code)
    print(re.sub(r"\n\s*\n+", "\n", m.group(0) if m else html[:3000]))

def test_dump(client, admin, line, reseller_a, subscriber, csr):
    subscriber_suspend(subscriber=line, actor=csr, reason="Lost phone")
    dump("login", client.get("/accounts/login/"))
    dump("login_bad", client.post("/accounts/login/", {"login": admin.email, "password": "bad"}))
    r = client.post("/accounts/login/", {"login": admin.email, "password": PASSWORD})
    print(r.status_code, r.get("Location"))
    dump("2fa", client.get("/accounts/2fa/"))
    r = client.get("/accounts/2fa/totp/activate/"); print(r.status_code, r.get("Location"))
    dump("2fa_activate", r)
    dump("bo", client.get("/backoffice/"))
    dump("bo_partners", client.get("/backoffice/partners/"))
    dump("keys", client.get("/backoffice/api-keys/"))
    dump("key_new", client.get("/backoffice/api-keys/new/"))
    dump("key_post_bad", client.post("/backoffice/api-keys/new/", {"name": ""}))
    dump("key_post", client.post("/backoffice/api-keys/new/", {"name": "Mediation", "permissions": ["crm.view_any_customer"]}))
    dump("keys2", client.get("/backoffice/api-keys/"))
    client.force_login(reseller_a)
    dump("partner", client.get("/partner/"))
    dump("partner_q", client.get("/partner/?q=lov"))
    dump("partner_hx", client.get("/partner/?q=07400123456", headers={"HX-Request": "true"}))
    dump("partner_detail", client.get(f"/partner/customers/{line.account.customer.public_id}/"))
    client.force_login(subscriber)
    dump("my", client.get("/my/"))
    dump("my_line", client.get(f"/my/lines/{line.public_id}/"))
