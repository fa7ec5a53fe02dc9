"""The People function in template.yaml: public routes without authorizer, least-privilege table
keys, SES only from the sender parameter, and only this function may send mail."""

from __future__ import annotations

from local import template


def test_given_the_template_then_only_the_people_function_sends_mail_and_only_from_the_sender() -> None:
    functions = template.resources("AWS::Serverless::Function")
    senders = [lid for lid, fn in functions.items()
               for policy in fn["Properties"].get("Policies") or [] if isinstance(policy, dict)
               for st in policy.get("Statement", []) if "ses:SendEmail" in st["Action"]]
    assert senders == ["PeopleFunction"]
    [ses] = [st for policy in functions["PeopleFunction"]["Properties"]["Policies"] for st in policy["Statement"]
             if "ses:SendEmail" in st["Action"]]
    assert ses["Condition"]["StringEquals"]["ses:FromAddress"] == {"Ref": "MailSender"}


def test_given_the_people_function_then_its_table_access_is_limited_to_its_keys() -> None:
    fn = template.resources("AWS::Serverless::Function")["PeopleFunction"]
    statements = [st for policy in fn["Properties"]["Policies"] for st in policy["Statement"]
                  if any(str(a).startswith("dynamodb:") for a in st["Action"])]
    for st in statements:
        keys = st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        assert all(k.startswith(("T#*#", "USEREMAIL#", "SESSION#", "PWTOKEN#", "THROTTLE#", "CONTACT#"))
                   for k in keys), keys


def test_given_the_people_routes_then_login_setup_forgot_and_contact_are_public_and_the_rest_not() -> None:
    routes = {(r.method, r.path): r.public for r in template.routes() if r.function == "PeopleFunction"}
    assert routes == {("POST", "/v1/auth/login"): True, ("POST", "/v1/auth/setup-password"): True,
                      ("POST", "/v1/auth/forgot-password"): True, ("POST", "/v1/contact"): True,
                      ("POST", "/v1/auth/logout"): False, ("GET", "/v1/users"): False,
                      ("POST", "/v1/users"): False, ("DELETE", "/v1/users/{user_id}"): False,
                      ("POST", "/v1/users/{user_id}/invitation"): False}
