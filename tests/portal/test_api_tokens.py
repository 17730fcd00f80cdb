"""Personal API tokens: hashed at rest, shown once, revocable, expiring, last use recorded."""
from __future__ import annotations

import io
from datetime import timedelta

from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from portal.models import ApiToken, AuditLog, hash_api_token
from tests.support.factories import field_values


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_token_is_stored_hashed_and_authenticates(alice, env_a):
    token, raw = ApiToken.issue(alice, name="ci")
    assert raw.startswith("sbp_")
    with connection.cursor() as cursor:
        cursor.execute("SELECT token_hash, prefix FROM portal_apitoken WHERE id = %s", [token.pk])
        token_hash, prefix = cursor.fetchone()
    assert token_hash == hash_api_token(raw) and raw not in token_hash
    assert raw.startswith(prefix) and len(prefix) < 12
    response = bearer(raw).get("/api/v1/environments/")
    assert response.status_code == 200
    assert [e["id"] for e in response.json()["results"]] == [env_a.pk]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_expired_and_unknown_tokens_are_401(alice):
    revoked, raw_revoked = ApiToken.issue(alice)
    revoked.revoke()
    _, raw_expired = ApiToken.issue(alice, expires_at=timezone.now() - timedelta(seconds=1))
    for raw in [raw_revoked, raw_expired, "sbp_doesnotexist"]:
        response = bearer(raw).get("/api/v1/environments/")
        assert response.status_code == 401
        assert "token" in response.json()["detail"].lower()


def test_malformed_header_is_401_with_a_hint(alice):
    response = bearer("not-a-switchboard-token").get("/api/v1/environments/")
    assert response.status_code == 401
    assert "sbp_" in response.json()["detail"]


def test_no_credentials_is_401(db):
    response = APIClient().get("/api/v1/environments/")
    assert response.status_code == 401


def test_last_used_is_not_written_on_every_request(alice):
    token, raw = ApiToken.issue(alice)
    client = bearer(raw)
    client.get("/api/v1/environments/")
    token.refresh_from_db()
    first = token.last_used_at
    client.get("/api/v1/environments/")
    token.refresh_from_db()
    assert token.last_used_at == first


def test_issuetoken_command_prints_the_token_once_and_audits(alice):
    out = io.StringIO()
    call_command("issuetoken", "alice", "--name", "laptop", stdout=out)
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(name="laptop")
    assert token.token_hash == hash_api_token(raw)
    assert AuditLog.objects.filter(action="api_token.created", actor=alice).exists()
    assert raw not in str(AuditLog.objects.values_list("details", flat=True)[::1])


def test_a_token_lookup_says_whether_its_user_is_restricted_to_teams(org_a, alice, bob, env_a):
    """The token's one lookup carries `restricted_somewhere`: an unrestricted caller costs no
    query for teams; a member restricted to a team still gets that team's restriction."""
    from django.test import RequestFactory

    from portal.auth.authentication import ApiTokenAuthentication
    from portal.models import ApiToken, Membership
    from portal.models.teams import Team
    from portal.tenancy.access import restriction_for_user

    def caller(user):
        _, raw = ApiToken.issue(user, "t")
        request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {raw}")
        return ApiTokenAuthentication().authenticate(request)[0]

    alice_caller = caller(alice)
    assert alice_caller.restricted_somewhere is False
    assert restriction_for_user(alice_caller) is None
    team = Team.objects.create(organization=org_a, name="North")
    membership = Membership.objects.across_organizations().get(organization=org_a, user=bob)
    membership.teams.add(team)
    bob_caller = caller(bob)
    assert bob_caller.restricted_somewhere is True
    assert restriction_for_user(bob_caller).teams == frozenset({team.pk})


def test_the_token_lookup_reads_what_the_orm_reads(org_a, alice, bob, django_assert_num_queries):
    """`portal.auth.token_lookup` writes its one statement by hand (the ORM's cost 3.8 ms of
    CPU a request): every field of the token and its user, converted as the ORM converts them
    and the restriction flag, equal the ORM's."""
    from portal.auth.token_lookup import token_by_hash
    from portal.models import Membership
    from portal.models.teams import Team

    expired, _ = ApiToken.issue(alice, "old", expires_at=timezone.now() - timedelta(days=1))
    expired.revoke()
    restricted, _ = ApiToken.issue(bob, "bob")
    Membership.objects.across_organizations().get(organization=org_a, user=bob).teams.add(
        Team.objects.create(organization=org_a, name="North"))
    for issued, is_restricted in ((expired, False), (restricted, True)):
        with django_assert_num_queries(1):
            found = token_by_hash(issued.token_hash)
        orm = ApiToken.objects.select_related("user").get(pk=issued.pk)
        assert field_values(found) == field_values(orm)
        assert field_values(found.user) == field_values(orm.user)
        assert {"password", "last_login", "date_joined"} <= field_values(found.user).keys()
        assert found.is_active is False if issued is expired else found.is_active
        assert found.restricted_somewhere is is_restricted
    assert token_by_hash(hash_api_token("sbp_unknown")) is None
