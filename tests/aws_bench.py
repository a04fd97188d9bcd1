"""Setup and observer for the aws_sso revocation-lag benchmark
(tests/benches/revocation_lag_aws.rs), with AWS's own Python SDK (boto3, from the moto venv
that scripts/ensure_moto.sh makes) against moto's server.

  aws_bench.py setup ENDPOINT N
      creates an account, a permission set and N Identity Store users b0..b{N-1}; prints
      {"instance", "store", "account", "ps"} as JSON.
  aws_bench.py observe ENDPOINT INSTANCE ACCOUNT PS N
      counts the permission set's assignments on the account every ~5 ms until none is left
      (or 120 s pass) and prints, as JSON, the Unix time in ms at which each one was seen gone.
"""

import json
import sys
import time

import boto3


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def setup(endpoint, n):
    sso = client("sso-admin", endpoint)
    ids = client("identitystore", endpoint)
    org = client("organizations", endpoint)
    inst = sso.list_instances()["Instances"][0]
    try:
        org.create_organization(FeatureSet="ALL")
    except Exception:
        pass
    account = org.create_account(Email="bench@example.com", AccountName="bench")[
        "CreateAccountStatus"
    ]["AccountId"]
    ps = sso.create_permission_set(
        InstanceArn=inst["InstanceArn"], Name="Bench", SessionDuration="PT1H"
    )["PermissionSet"]["PermissionSetArn"]
    for i in range(n):
        ids.create_user(
            IdentityStoreId=inst["IdentityStoreId"],
            UserName=f"b{i}",
            DisplayName=f"b{i}",
            Name={"GivenName": f"b{i}", "FamilyName": "Bench"},
            Emails=[{"Value": f"b{i}@example.com", "Primary": True}],
        )
    print(
        json.dumps(
            {
                "instance": inst["InstanceArn"],
                "store": inst["IdentityStoreId"],
                "account": account,
                "ps": ps,
            }
        )
    )


def count(sso, instance, account, ps):
    n, token = 0, None
    while True:
        kw = {"InstanceArn": instance, "AccountId": account, "PermissionSetArn": ps}
        if token:
            kw["NextToken"] = token
        page = sso.list_account_assignments(**kw)
        n += len(page["AccountAssignments"])
        token = page.get("NextToken")
        if not token:
            return n


def observe(endpoint, instance, account, ps, n):
    sso = client("sso-admin", endpoint)
    gone = []
    left = n
    deadline = time.time() + 120
    while left > 0 and time.time() < deadline:
        now = int(time.time() * 1000)
        c = count(sso, instance, account, ps)
        if c < left:
            gone.extend([now] * (left - c))
            left = c
        time.sleep(0.005)
    print(json.dumps(gone))


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(sys.argv[2], int(sys.argv[3]))
    else:
        observe(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
