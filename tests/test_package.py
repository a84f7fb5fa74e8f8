"""The deployable template (`make package`, infra/package.py): cfn-lint accepts it, every handler of
the app is wired to this stack's resources, and each function's IAM policy is least privilege.

The dev and prod templates are packaged once per session into a temporary folder (a few seconds
when chalice can reuse its cached deployment package; the first run downloads the Lambda wheels
from PyPI) and linted by one cfn-lint run (about 5 s).
"""

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
STAGES = ("dev", "prod")
PACKAGE_TIMEOUT = 600  # seconds per stage; a cold PyPI download is the slow part
LINT_TIMEOUT = 300
# Issue 12's goal for the zipped package was 5 MB (README, "Package size": 4.1 MB measured without the
# stripe SDK and its requests stack, 7.4 MB with them). The bytecode of what a cold start loads adds
# ~1.8 MB and takes ~0.6-0.8 s off every cold start (README, "Cold start: bytecode in the package").
MAX_ZIPPED_BYTES = 6_500_000
NOT_DEPLOYED = {"stripe", "requests", "urllib3", "charset_normalizer", "idna", "certifi", "boto3", "botocore",
                "moto", "localstripe", "tests", "bench", "devstack", "tools"}

# The secrets each function reads (through chalicelib.config.secret) and their SSM parameter names.
SECRETS = {
    "api": {"STRIPE_SECRET_KEY": "stripe-secret-key", "STRIPE_WEBHOOK_SECRETS": "stripe-webhook-secrets",
            "ADMIN_KEY_HASHES": "admin-key-hashes", "ADMIN_API_KEYS": "admin-api-keys",
            "CART_LINK_SECRET": "cart-link-secret",
            "UNSUBSCRIBE_SECRET": "unsubscribe-secret", "BANK_WEBHOOK_SECRET": "bank-webhook-secret",
            "GIFT_CARD_SECRET": "gift-card-secret"},
    "on_table_change": {"GIFT_CARD_SECRET": "gift-card-secret"},
    "on_fulfilment_message": {"FULFILMENT_WEBHOOK_SECRET": "fulfilment-webhook-secret"},
    "on_email_message": {"CART_LINK_SECRET": "cart-link-secret", "UNSUBSCRIBE_SECRET": "unsubscribe-secret",
                         "GIFT_CARD_SECRET": "gift-card-secret"},
    # The sweeps ask Stripe about unpaid orders before cancelling them (reconciliation).
    "expire_unpaid_orders": {"STRIPE_SECRET_KEY": "stripe-secret-key"},
    "reconcile_payments": {"STRIPE_SECRET_KEY": "stripe-secret-key"},
    "sweep_orphan_payments": {"STRIPE_SECRET_KEY": "stripe-secret-key"},  # lists and cancels PaymentIntents
}
ALL_SECRETS = {name for needs in SECRETS.values() for name in needs}

# Actions AWS only grants on Resource "*". None is used today: each function writes only to its own
# log group (named), and there is no X-Ray or custom metric yet. Add here, with the reason, when needed:
WILDCARD_RESOURCE_ALLOWED = {
    "xray:PutTraceSegments",  # trace segments are not resources
    "xray:PutTelemetryRecords",  # idem
    "cloudwatch:PutMetricData",  # metrics have no ARN; narrow with a cloudwatch:namespace condition
}


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> dict:
    """{stage: (template, cfn-lint's exit code and output)} for dev and prod."""
    out = tmp_path_factory.mktemp("package")
    paths = {}
    for stage in STAGES:
        built = subprocess.run([sys.executable, "infra/package.py", "--stage", stage, "--out", str(out / stage)],
                               cwd=ROOT, timeout=PACKAGE_TIMEOUT, capture_output=True, text=True)
        if built.returncode:
            pytest.fail(f"make package STAGE={stage} failed:\n{built.stdout}{built.stderr}", pytrace=False)
        paths[stage] = out / stage / "sam.json"
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), *map(str, paths.values())],
                          cwd=ROOT, timeout=LINT_TIMEOUT, capture_output=True, text=True)
    return {"templates": {stage: json.loads(path.read_text()) for stage, path in paths.items()},
            "lint": (lint.returncode, lint.stdout + lint.stderr),
            "zips": {stage: path.parent / "deployment.zip" for stage, path in paths.items()}}


@pytest.fixture(params=STAGES)
def stage(request) -> str:
    return request.param


@pytest.fixture
def template(packaged, stage) -> dict:
    return packaged["templates"][stage]


def functions(template: dict) -> dict[str, tuple[str, dict]]:
    """{handler name ("api", "on_table_change"...): (logical id, Properties)}."""
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            props = resource["Properties"]
            name = "api" if props["Handler"] == "app.app" else props["Handler"].rsplit(".", 1)[-1]
            found[name] = (logical_id, props)
    return found


def statements(template: dict, props: dict) -> list[dict]:
    role = template["Resources"][props["Role"]["Fn::GetAtt"][0]]
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def resolved(value, stage: str):
    """A policy resource as comparable text: Fn::Sub with the stage filled in, GetAtt as `Res.Attr`."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        return value["Fn::Sub"].replace("${Stage}", stage)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return ".".join(value["Fn::GetAtt"])
    return value


def names_a_resource(text: str, resources: dict) -> bool:
    """A resource of this stack (`Table.Arn`, `${Table.Arn}/index/*`), or an ARN in this account
    (SSM parameters by name; SES identities, which are the account's own)."""
    stack = re.fullmatch(r"\$\{(\w+)\.\w+\}(/.*)?|(\w+)\.\w+", text)
    if stack:
        return (stack.group(1) or stack.group(3)) in resources
    return text.startswith("arn:${AWS::Partition}:") and ":${AWS::AccountId}:" in text


def app_event_sources():
    from app import app

    return app.event_sources


def test_the_zipped_package_stays_under_its_limit_and_carries_no_sdk_or_dev_tooling(packaged, stage):
    path = packaged["zips"][stage]
    assert path.stat().st_size <= MAX_ZIPPED_BYTES, f"{path.stat().st_size:,} bytes zipped"
    with zipfile.ZipFile(path) as archive:
        tops = {name.split("/")[0].split("-")[0] for name in archive.namelist()}
    assert not tops & NOT_DEPLOYED, tops & NOT_DEPLOYED
    assert {"app.py", "chalicelib", "pydantic", "aws_lambda_powertools", "jinja2"} <= tops


# Run in the unzipped package, as Lambda runs it (nothing written: /var/task is read-only).
LOADED_WITHOUT_BYTECODE = """
import json, os, sys
sys.path.insert(0, os.getcwd())
import app  # noqa
from chalicelib.services import checkout, emails  # noqa
here = os.getcwd() + os.sep
print(json.dumps(sorted(m.__file__[len(here):] for m in list(sys.modules.values())
                        if (getattr(m, "__file__", None) or "").startswith(here) and m.__file__.endswith(".py")
                        and not os.path.exists(m.__cached__))))
"""


def test_every_module_a_cold_start_loads_is_precompiled_and_used_without_checking_its_source(packaged, tmp_path):
    with zipfile.ZipFile(packaged["zips"]["dev"]) as archive:
        archive.extractall(tmp_path)
        pycs = [name for name in archive.namelist() if name.endswith(".pyc")]
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run([sys.executable, "-c", LOADED_WITHOUT_BYTECODE], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    tag = sys.implementation.cache_tag
    assert {f"__pycache__/app.{tag}.pyc", f"pydantic/__pycache__/main.{tag}.pyc"} <= set(pycs)
    # Flags 0b01: hash-based, not checked against the source (whose mtime an unzip need not keep).
    assert all(int.from_bytes((tmp_path / name).read_bytes()[4:8], "little") == 1 for name in pycs)


def test_cfn_lint_accepts_the_packaged_templates_without_errors_or_warnings(packaged):
    code, output = packaged["lint"]
    assert code == 0, output


def test_no_function_policy_has_a_wildcard_action_or_an_unnamed_resource(template, stage):
    for name, (_, props) in functions(template).items():
        for statement in statements(template, props):
            actions = as_list(statement["Action"])
            assert not [a for a in actions if "*" in a], (name, statement)
            for resource in as_list(statement["Resource"]):
                if resource == "*":
                    assert set(actions) <= WILDCARD_RESOURCE_ALLOWED, (name, statement)
                else:
                    assert names_a_resource(resolved(resource, stage), template["Resources"]), (name, resource)


def test_every_event_handler_has_its_own_policy_file_in_every_stage():
    # Without its own iam_policy_file a handler would silently get the API's policy.
    for source in app_event_sources():
        for stage in STAGES:
            entry = CONFIG["stages"][stage].get("lambda_functions", {}).get(source.name, {})
            assert entry.get("iam_policy_file"), (stage, source.name)
            assert entry["iam_policy_file"] != CONFIG["stages"][stage]["iam_policy_file"], (stage, source.name)
            assert (ROOT / ".chalice" / entry["iam_policy_file"]).is_file()


def test_every_function_gets_the_stacks_resources_from_the_template(template):
    for name, (_, props) in functions(template).items():
        variables = props["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == {"Ref": "Table"}, name
        assert variables["EMAIL_QUEUE_URL"] == {"Ref": "EmailQueue"}, name
        assert variables["FULFILMENT_QUEUE_URL"] == {"Ref": "FulfilmentQueue"}, name
        assert variables["EMAIL_QUEUE_NAME"] == {"Fn::GetAtt": ["EmailQueue", "QueueName"]}, name
        assert variables["FULFILMENT_QUEUE_NAME"] == {"Fn::GetAtt": ["FulfilmentQueue", "QueueName"]}, name


def test_secrets_come_only_from_the_stages_ssm_parameters_and_only_where_needed(template, stage):
    for name, (_, props) in functions(template).items():
        variables = props["Environment"]["Variables"]
        assert not ALL_SECRETS & set(variables), f"{name} carries a secret's value"
        needed = SECRETS.get(name, {})
        params = {k: v for k, v in variables.items() if k.endswith("_PARAM")}
        assert params == {f"{secret}_PARAM": f"/commerce/{stage}/{param}" for secret, param in needed.items()}, name
        granted = {resolved(resource, stage)
                   for s in statements(template, props) if "ssm:GetParameter" in as_list(s["Action"])
                   for resource in as_list(s["Resource"])}
        assert granted == {f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{value}"
                           for value in params.values()}, name
        assert not [s for s in statements(template, props) for a in as_list(s["Action"])
                    if a.startswith("ssm:") and a != "ssm:GetParameter"], name


def test_every_sqs_consumer_reads_its_queue_of_this_stack_which_dead_letters(template):
    resources = template["Resources"]
    consumers = {source.name for source in app_event_sources() if type(source).__name__ == "SQSEventConfig"}
    assert consumers, "the app has no SQS consumer"
    for name, (_, props) in functions(template).items():
        events = [e for e in props.get("Events", {}).values() if e["Type"] == "SQS"]
        assert bool(events) == (name in consumers), name
        for event in events:
            queue_id = event["Properties"]["Queue"]["Fn::GetAtt"][0]
            queue = resources[queue_id]["Properties"]
            dead_letter = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert resources[dead_letter]["Type"] == "AWS::SQS::Queue"
            assert queue["RedrivePolicy"]["maxReceiveCount"] >= 1
            # The consumers report partial batch failures (chalicelib/handlers/queues.py).
            assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            # AWS's advice: a visibility timeout of at least six times the function's timeout.
            assert queue["VisibilityTimeout"] >= 6 * props["Timeout"], name
            consumed = [s for s in statements(template, props) if "sqs:ReceiveMessage" in as_list(s["Action"])]
            assert [resolved(r, "") for s in consumed for r in as_list(s["Resource"])] == [f"{queue_id}.Arn"]
            assert any(r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["Dimensions"][0]["Value"]
                       == {"Fn::GetAtt": [dead_letter, "QueueName"]} for r in resources.values()), dead_letter


def test_the_stream_mapping_reads_the_tables_own_stream(template):
    mappings = [(name, event) for name, (_, props) in functions(template).items()
                for event in props.get("Events", {}).values() if event["Type"] == "DynamoDB"]
    assert [name for name, _ in mappings] == ["on_table_change"]
    assert mappings[0][1]["Properties"]["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert template["Resources"]["Table"]["Properties"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    # A failing record is isolated, retried a bounded number of times, then set aside in the stream
    # failure queue (which the relay may send to, and which is alarmed) so the shard moves on.
    properties = mappings[0][1]["Properties"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert 1 <= properties["MaximumRetryAttempts"] <= 20
    destination = properties["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}
    assert template["Resources"]["StreamFailureQueue"]["Type"] == "AWS::SQS::Queue"
    _, relay = functions(template)["on_table_change"]
    assert any("sqs:SendMessage" in as_list(s["Action"]) and destination in as_list(s["Resource"])
               for s in statements(template, relay))
    assert any(r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["Dimensions"][0]["Value"]
               == {"Fn::GetAtt": ["StreamFailureQueue", "QueueName"]} for r in template["Resources"].values())
    ages = [r["Properties"] for r in template["Resources"].values()
            if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("MetricName") == "IteratorAge"]
    assert len(ages) == 1 and ages[0]["Threshold"] <= 15 * 60 * 1000


def test_every_schedule_of_the_app_is_in_the_template(template):
    expected = {}
    for source in app_event_sources():
        if type(source).__name__ == "ScheduledEventConfig":
            expression = source.schedule_expression
            expected[source.name] = expression if isinstance(expression, str) else expression.to_string()
    assert "expire_unpaid_orders" in expected
    found = {name: event["Properties"]["Schedule"] for name, (_, props) in functions(template).items()
             for event in props.get("Events", {}).values() if event["Type"] == "Schedule"}
    assert found == expected


def test_every_function_has_its_own_log_group_and_an_errors_alarm(template, stage):
    resources = template["Resources"]
    for name, (logical_id, props) in functions(template).items():
        assert resolved(props["FunctionName"], stage) == f"commerce-{stage}-{name}"
        log_group = resources[f"{logical_id}LogGroup"]["Properties"]
        assert resolved(log_group["LogGroupName"], stage) == f"/aws/lambda/commerce-{stage}-{name}"
        assert f"{logical_id}LogGroup" in resources[logical_id]["DependsOn"]
        logs = [s for s in statements(template, props) if any(a.startswith("logs:") for a in as_list(s["Action"]))]
        assert [r for s in logs for r in as_list(s["Resource"])] == [{"Fn::GetAtt": [f"{logical_id}LogGroup", "Arn"]}]
        alarm = resources[f"{logical_id}ErrorsAlarm"]["Properties"]
        assert (alarm["MetricName"], alarm["Dimensions"]) == ("Errors", [{"Name": "FunctionName",
                                                                          "Value": {"Ref": logical_id}}])
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_api_is_throttled_and_its_5xx_rate_alarmed(template):
    resources = template["Resources"]
    api = resources["RestAPI"]["Properties"]
    [settings] = api["MethodSettings"]
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(settings)
    assert api["DefinitionBody"]["info"]["title"] == api["Name"]
    alarm = resources["Api5xxAlarm"]["Properties"]
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {"ApiName": api["Name"], "Stage": api["StageName"]}
    mapping = template["Mappings"]["StageSettings"]
    assert mapping["prod"]["ThrottlingRateLimit"] > 0 and mapping["prod"]["ThrottlingBurstLimit"] > 0


def test_api_gateways_own_answers_are_in_our_envelope_with_the_stages_cors_origin(template, stage):
    definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = definition["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN", "RESOURCE_NOT_FOUND", "THROTTLED",
            "REQUEST_TOO_LARGE", "INTEGRATION_TIMEOUT"} <= set(responses)
    origin = CONFIG["stages"][stage]["environment_variables"]["CORS_ALLOW_ORIGIN"]
    context = "$context.error.messageString"
    for kind, response in responses.items():
        body = response["responseTemplates"]["application/json"]
        # API Gateway's messageString is a quoted JSON string: stand in one to check the body parses.
        error = json.loads(body.replace(context, '"the gateway\'s message"'))["error"]
        assert set(error) == {"code", "message"} and re.fullmatch(r"[a-z_]+", error["code"]), kind
        assert response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{origin}'"
    expected = {"MISSING_AUTHENTICATION_TOKEN": ("404", "resource_missing"), "THROTTLED": ("429", "rate_limited"),
                "REQUEST_TOO_LARGE": ("413", "payload_too_large"),
                "INTEGRATION_TIMEOUT": ("503", "upstream_unavailable")}
    for kind, (status, code) in expected.items():
        assert responses[kind]["statusCode"] == status
        assert f'"code": "{code}"' in responses[kind]["responseTemplates"]["application/json"]
    assert "statusCode" not in responses["DEFAULT_4XX"] and "statusCode" not in responses["DEFAULT_5XX"]


def test_the_stage_is_pinned_and_only_prod_keeps_its_table(template, stage):
    assert template["Parameters"]["Stage"]["AllowedValues"] == [stage]
    table = template["Resources"]["Table"]
    assert (table.get("DeletionPolicy") == "Retain") == (stage == "prod")
    assert bool(table["Properties"].get("DeletionProtectionEnabled")) == (stage == "prod")


def test_prod_cors_allows_only_the_storefront(packaged):
    variables = CONFIG["stages"]["prod"]["environment_variables"]
    origin = variables["CORS_ALLOW_ORIGIN"]
    assert origin.startswith("https://") and "*" not in origin and "," not in origin
    assert "STRIPE_API_BASE" not in variables and "OUTBOX_DIR" not in variables  # local-stack conveniences
    paths = packaged["templates"]["prod"]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    allowed = {path: route["options"]["x-amazon-apigateway-integration"]["responses"]["default"]
               ["responseParameters"]["method.response.header.Access-Control-Allow-Origin"]
               for path, route in paths.items() if "options" in route}
    if not allowed:
        pytest.skip("no route answers CORS preflights yet (app.py sets app.api.cors from CORS_ALLOW_ORIGIN)")
    assert set(allowed.values()) == {f"'{origin}'"}


def test_preflights_from_the_back_office_are_answered_with_its_origin(packaged):
    paths = packaged["templates"]["prod"]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    preflights = [route["options"]["x-amazon-apigateway-integration"]["responses"]["default"]
                  for path, route in paths.items() if "options" in route]
    if not preflights:
        pytest.skip("no route answers CORS preflights (app.py sets app.api.cors from CORS_ALLOW_ORIGIN)")
    for response in preflights:
        template = response["responseTemplates"]["application/json"]["Fn::Sub"]
        assert "https://${AdminDistribution.DomainName}" in template
        assert "responseOverride.header.Access-Control-Allow-Origin" in template


def test_chalice_config_holds_no_secret():
    text = json.dumps(CONFIG)
    assert not re.search(r"sk_(live|test)_|whsec_|rk_live_", text)
    for stage in CONFIG["stages"].values():
        scopes = [stage.get("environment_variables", {})] + [
            f.get("environment_variables", {}) for f in stage.get("lambda_functions", {}).values()]
        assert not [name for scope in scopes for name in scope if name in ALL_SECRETS]


def test_the_customer_routes_sit_behind_the_pools_cognito_authorizer(template):
    resources = template["Resources"]
    assert resources["CustomerPool"]["Type"] == "AWS::Cognito::UserPool"
    assert resources["StorefrontClient"]["Properties"]["GenerateSecret"] is False
    swagger = resources["RestAPI"]["Properties"]["DefinitionBody"]
    authorizer = swagger["securityDefinitions"]["CustomerPool"]["x-amazon-apigateway-authorizer"]
    assert authorizer == {"type": "cognito_user_pools", "providerARNs": [{"Fn::GetAtt": ["CustomerPool", "Arn"]}]}
    guarded = {(path, method) for path, methods in swagger["paths"].items() for method, operation in methods.items()
               if operation.get("security") == [{"CustomerPool": []}]}
    customer = {(path, method) for path, methods in swagger["paths"].items() for method in methods
                if path.split("/")[1] in ("me", "company", "quotes") and method != "options"}
    assert customer and guarded == customer
    _, api = functions(template)["api"]
    assert api["Environment"]["Variables"]["COGNITO_USER_POOL_ID"] == {"Ref": "CustomerPool"}
    assert api["Environment"]["Variables"]["COGNITO_CLIENT_ID"] == {"Ref": "StorefrontClient"}
