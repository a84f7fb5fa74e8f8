"""Build one deployable template per stage: `chalice package` merged with infra/.

    python infra/package.py --stage prod [--out build/prod]      (what `make package STAGE=prod` runs)

writes `<out>/sam.json` (SAM/CloudFormation) and `<out>/deployment.zip` (the code it points at; see
README "Deploying to AWS" for uploading it). Offline except for PyPI, from which chalice fetches
the Lambda (manylinux) wheels of requirements.txt; it never calls AWS.

1. infra/template.yaml (the stateful resources, which tests and the local stack build too) and
   infra/deploy.yaml (what only a deployed stack has: alarms, the alarm topic, API throttling) are
   deep-merged and handed to `chalice package --merge-template`, as JSON so chalice writes JSON.
2. The result is finished here, for what chalice cannot be told statically:
   - event sources point at this stack's resources: the stream mapping at `Table.StreamArn` (chalice
     writes the ARN string the app saw at import), each SQS mapping at the queue of the same name;
   - every function gets the stack's resource names in its environment (TABLE_NAME = Ref Table...),
     a fixed name `commerce-<stage>-<handler>`, its own log group with the stage's retention and an
     Errors alarm;
   - the IAM policies of .chalice/policy-*.json (one per function, see config.json) name this
     stack's resources as `${Table.Arn}`, `${EmailQueue.Arn}`, `${Stage}`, `${AWS::Region}`...:
     each string with `${` becomes `Fn::Sub`. Each role also gets CreateLogStream/PutLogEvents on
     its own function's log group, and no other CloudWatch Logs access;
   - API Gateway's own answers (no such route, throttled, payload too large, the function failed...)
     are in our `{"error": {"code", "message"}}` envelope with the stage's CORS origin: gateway
     responses in the API's definition (GATEWAY_RESPONSES);
   - the Stage parameter is pinned to the packaged stage (a prod package cannot become dev), and
     prod's table is retained and deletion-protected.
3. Bytecode is added to deployment.zip for every module a cold start imports (`precompile`): chalice
   packages sources only, and Lambda's /var/task is read-only, so without it every cold start compiles
   app.py, chalicelib and the dependencies it loads from source again (README, "Cold start").
It refuses to write a template that carries a secret's value instead of its SSM parameter name.
"""

import argparse
import copy
import importlib.util
import json
import os
import py_compile
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
CONFIG = ROOT / ".chalice" / "config.json"

# Read through chalicelib.config.secret(): in a deployed stage only their `<NAME>_PARAM` may be set.
SECRETS = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRETS", "ADMIN_KEY_HASHES", "ADMIN_API_KEYS",
           "FULFILMENT_WEBHOOK_SECRET", "CART_LINK_SECRET", "UNSUBSCRIBE_SECRET", "GIFT_CARD_SECRET")

# The stack's resources, as every function sees them (set at import too: chalice's SQS decorators
# read the queue names then).
STACK_ENVIRONMENT = {
    "TABLE_NAME": {"Ref": "Table"},
    "TABLE_STREAM_ARN": {"Fn::GetAtt": ["Table", "StreamArn"]},
    "FULFILMENT_QUEUE_URL": {"Ref": "FulfilmentQueue"},
    "FULFILMENT_QUEUE_NAME": {"Fn::GetAtt": ["FulfilmentQueue", "QueueName"]},
    "EMAIL_QUEUE_URL": {"Ref": "EmailQueue"},
    "EMAIL_QUEUE_NAME": {"Fn::GetAtt": ["EmailQueue", "QueueName"]},
    "VIEWS_BUCKET": {"Ref": "ViewsBucket"},
    "DOCUMENTS_BUCKET": {"Ref": "DocumentsBucket"},
    # Product images: uploaded into the bucket (presigned PUT), served through their CloudFront (deploy.yaml).
    "IMAGES_BUCKET": {"Ref": "ImagesBucket"},
    "IMAGES_BASE_URL": {"Fn::Sub": "https://${ImagesDistribution.DomainName}"},
    "COGNITO_USER_POOL_ID": {"Ref": "CustomerPool"},
    "COGNITO_CLIENT_ID": {"Ref": "StorefrontClient"},
    "STAFF_USER_POOL_ID": {"Ref": "StaffPool"},
    "STAFF_CLIENT_ID": {"Ref": "BackOfficeClient"},
    # The back office's CloudFront origin (deploy.yaml), allowed by CORS next to the storefront's.
    "ADMIN_ORIGIN": {"Fn::Sub": "https://${AdminDistribution.DomainName}"},
}

# API Gateway's Cognito authorizer (ID tokens of the customer pool) on the customer routes: every
# method of a path under /me, /company (B2B buyers) or /quotes. The app verifies the tokens again (accounts.py);
# routes that take a token or another credential (the order page, checkout) have no authorizer.
CUSTOMER_AUTHORIZER = "CustomerPool"
CUSTOMER_PATH = re.compile(r"^/(me|company|quotes)(/|$)")

# Variables of the packaging shell that would leak into the app chalice imports (queue names, the
# stream ARN) or into boto3; the stage's own values come from .chalice/config.json.
_LEAKY = {"STAGE", "TABLE_NAME", "TABLE_STREAM_ARN", "AWS_ENDPOINT_URL", *SECRETS}

RETAINED_STAGES = {"prod"}

# Retries of a failing stream batch (halved on each failure) before it goes to StreamFailureQueue;
# Lambda backs off between them, so a short outage of SQS or the table is ridden out.
STREAM_RETRIES = 10


def load_yaml(path: Path) -> dict:
    """A CloudFormation YAML file with its short-form tags (!Ref, !Sub...) as long-form JSON."""
    from chalice.package import YAMLTemplateSerializer

    return YAMLTemplateSerializer().load_template(path.read_text(), str(path))


def deep_merge(base: dict, overlay: dict) -> dict:
    """`overlay` on top of `base`: dicts merge key by key, anything else is replaced (as chalice does)."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = deep_merge(base[key], value)
        else:
            merged[key] = value
    return merged


def chalice_package(stage: str, out: Path, merge_template: dict) -> None:
    chalice = Path(sys.executable).parent / "chalice"
    env = {k: v for k, v in os.environ.items()
           if k not in _LEAKY and not k.endswith(("_QUEUE_URL", "_QUEUE_NAME", "_PARAM"))}
    # chalice wants a region to build its (unused) session; the template says ${AWS::Region} throughout.
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with tempfile.TemporaryDirectory() as scratch:
        merge_path = Path(scratch) / "merge.json"
        merge_path.write_text(json.dumps(merge_template, indent=2))
        command = [str(chalice), "package", "--stage", stage, "--merge-template", str(merge_path), str(out)]
        subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603 - our own argv


# Run in the unzipped package: every source file under it that a container loads on its first requests:
# `import app` (all functions share app.py), every chalicelib module (some are imported by the routes
# that use them), jinja2 (the email consumer's first message) and what pydantic loads to build the
# models' validators (deferred to first use).
_LOADED = """
import importlib, json, os, pkgutil, sys
sys.path.insert(0, os.getcwd())
import app, chalicelib  # noqa
for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    importlib.import_module(module.name)
from chalicelib.services import emails
emails._templates()
from chalicelib.models.base import Model
stack = [Model]
while stack:
    model = stack.pop()
    stack.extend(model.__subclasses__())
    if model is not Model and not model.__pydantic_generic_metadata__["parameters"]:
        model.model_rebuild(force=True)
here = os.getcwd() + os.sep
print(json.dumps(sorted({m.__file__[len(here):] for m in list(sys.modules.values())
                         if (getattr(m, "__file__", None) or "").startswith(here) and m.__file__.endswith(".py")})))
"""


def precompile(zip_path: Path) -> int:
    """Rewrite the zip with `__pycache__/<module>.cpython-3xx.pyc` for every module a cold start imports:
    unchecked-hash pycs, used without comparing them to the source (whose mtime an unzip need not keep).
    Any other bytecode is left out (chalice copies chalicelib/__pycache__ of the working tree, whatever
    state it is in). The tag is this interpreter's, which is the runtime chalice packages for. Returns
    the count of modules compiled."""
    with tempfile.TemporaryDirectory() as scratch:
        with zipfile.ZipFile(zip_path) as archive:
            entries = [info for info in archive.infolist()
                       if "__pycache__/" not in info.filename and not info.filename.endswith(".pyc")]
            archive.extractall(scratch, members=entries)
        env = {k: v for k, v in os.environ.items() if k not in _LEAKY and not k.endswith(("_QUEUE_URL", "_QUEUE_NAME"))}
        env.update(PYTHONDONTWRITEBYTECODE="1", AWS_DEFAULT_REGION=env.get("AWS_DEFAULT_REGION", "us-east-1"))
        loaded = subprocess.run([sys.executable, "-c", _LOADED], cwd=scratch, env=env, check=True,  # noqa: S603
                                capture_output=True, text=True)
        modules = json.loads(loaded.stdout.strip().splitlines()[-1])
        rewritten = zip_path.with_suffix(".tmp")
        with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
            for info in entries:
                target.writestr(info, source.read(info), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            for module in modules:
                cached = importlib.util.cache_from_source(module)
                py_compile.compile(str(Path(scratch) / module), cfile=str(Path(scratch) / cached), dfile=module,
                                   doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                target.write(Path(scratch) / cached, cached, compresslevel=9)
        os.replace(rewritten, zip_path)
    return len(modules)


def handler_name(function: dict) -> str:
    """`api` for the API handler, else the Python name of the handler (`on_table_change`)."""
    handler = function["Properties"]["Handler"]
    return "api" if handler == "app.app" else handler.rsplit(".", 1)[-1]


def _sub(value):
    """Every string with a `${...}` reference in a policy document becomes Fn::Sub (a bare
    `${Resource.Attribute}`, Fn::GetAtt)."""
    if isinstance(value, str) and "${" in value:
        whole = re.fullmatch(r"\$\{(\w+)\.(\w+)\}", value)
        return {"Fn::GetAtt": list(whole.groups())} if whole else {"Fn::Sub": value}
    if isinstance(value, list):
        return [_sub(item) for item in value]
    if isinstance(value, dict):
        return {key: _sub(item) for key, item in value.items()}
    return value


def _queue_by_name(resources: dict, stage: str) -> dict[str, str]:
    names = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::SQS::Queue":
            name = resource["Properties"]["QueueName"]
            name = name["Fn::Sub"] if isinstance(name, dict) else name
            names[name.replace("${Stage}", stage)] = logical_id
    return names


def _queue_name_of(queue) -> str:
    """The queue name at the end of the ARN chalice wrote (a string, or a Fn::Sub of one)."""
    arn = queue["Fn::Sub"] if isinstance(queue, dict) and "Fn::Sub" in queue else queue
    if not isinstance(arn, str):
        raise SystemExit(f"cannot tell which queue {queue!r} is")
    return arn.rsplit(":", 1)[-1]


# API Gateway's answers that never reach the function: (status, our code, message) per gateway
# response type (docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
# A status of None keeps API Gateway's; a message of None passes API Gateway's own (no ARN or secret in it).
# An unknown path *or method* is MISSING_AUTHENTICATION_TOKEN to API Gateway (a 403), so both are 404 here.
GATEWAY_RESPONSES = {
    "DEFAULT_4XX": (None, "invalid_request", None),
    "DEFAULT_5XX": (None, "internal_error", "Something went wrong on our side."),
    "MISSING_AUTHENTICATION_TOKEN": (404, "resource_missing", "No route matches this method and path."),
    "RESOURCE_NOT_FOUND": (404, "resource_missing", "No route matches this method and path."),
    "BAD_REQUEST_BODY": (400, "invalid_request", None),
    "BAD_REQUEST_PARAMETERS": (400, "invalid_request", None),
    "UNSUPPORTED_MEDIA_TYPE": (415, "invalid_request", "Send JSON (Content-Type: application/json)."),
    "REQUEST_TOO_LARGE": (413, "payload_too_large", "The request body is too large."),
    "UNAUTHORIZED": (401, "unauthenticated", "Missing or bad credentials."),
    "ACCESS_DENIED": (403, "forbidden", "Not allowed."),
    "WAF_FILTERED": (403, "forbidden", "Not allowed."),
    "THROTTLED": (429, "rate_limited", "Too many requests; retry in a moment."),
    "QUOTA_EXCEEDED": (429, "rate_limited", "Too many requests; retry later."),
    "INTEGRATION_FAILURE": (502, "upstream_unavailable", "A dependency failed; it is safe to retry."),
    "INTEGRATION_TIMEOUT": (503, "upstream_unavailable", "A dependency timed out; it is safe to retry."),
}


def gateway_responses(cors_origin: str) -> dict:
    """The API definition's `x-amazon-apigateway-gateway-responses`: each of GATEWAY_RESPONSES as
    our error envelope, with the storefront's CORS origin (a browser could not read it otherwise)."""
    headers = {"gatewayresponse.header.Access-Control-Allow-Origin": f"'{cors_origin}'"} if cors_origin else {}
    responses = {}
    for kind, (status, code, message) in GATEWAY_RESPONSES.items():
        text = json.dumps(message) if message else "$context.error.messageString"  # already a JSON string
        response = {"responseTemplates": {"application/json": f'{{"error": {{"code": "{code}", "message": {text}}}}}'}}
        if status:
            response["statusCode"] = str(status)
        if kind in ("THROTTLED", "QUOTA_EXCEEDED"):
            response["responseParameters"] = {**headers, "gatewayresponse.header.Retry-After": "'1'"}
        elif headers:
            response["responseParameters"] = dict(headers)
        responses[kind] = response
    return responses


def _errors_alarm(logical_id: str, name: str) -> dict:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": {"Fn::Sub": f"commerce-${{Stage}}-{name}-errors"},
        "AlarmDescription": f"The {name} function failed (queue and stream invocations are retried; "
                            "the API answers 500s, see the 5XX alarm).",
        "Namespace": "AWS/Lambda", "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": logical_id}}],
        "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": "AlarmTopic"}], "OKActions": [{"Ref": "AlarmTopic"}]}}


def finish(template: dict, stage: str) -> dict:
    """The deployable template from chalice's merged output (see the module docstring)."""
    template = copy.deepcopy(template)
    template["Description"] = (f"commerce ({stage}): the API, consumers and schedules (chalice package) with the "
                               "table, queues and alarms of infra/. Built by `make package`.")
    resources = template["Resources"]
    template["Parameters"]["Stage"] = {
        "Type": "String", "Default": stage, "AllowedValues": [stage],
        "Description": "Fixed when packaging: `make package STAGE=...` builds one template per stage."}
    if stage in RETAINED_STAGES:
        table = resources["Table"]
        table["DeletionPolicy"] = table["UpdateReplacePolicy"] = "Retain"
        table["Properties"]["DeletionProtectionEnabled"] = True
    # The API's name is the ApiName of its metrics (deploy.yaml's 5XX alarm): the swagger title says
    # the same as the Name property, whichever API Gateway goes by.
    api = resources["RestAPI"]["Properties"]
    api["DefinitionBody"]["info"]["title"] = api["Name"]
    cors_origin = json.loads(CONFIG.read_text())["stages"][stage]["environment_variables"].get("CORS_ALLOW_ORIGIN", "")
    api["DefinitionBody"]["x-amazon-apigateway-gateway-responses"] = gateway_responses(cors_origin)
    customer_authorizer(api["DefinitionBody"])
    admin_preflight(api["DefinitionBody"])
    queues = _queue_by_name(resources, stage)
    functions = [lid for lid, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    for logical_id in functions:
        function = resources[logical_id]
        name = handler_name(function)
        _configure(function["Properties"], name, stage)
        _wire_events(function["Properties"], name, queues)
        log_group = _own_log_group(resources, logical_id, name)
        _finish_policies(resources[function["Properties"]["Role"]["Fn::GetAtt"][0]], log_group)
        resources[f"{logical_id}ErrorsAlarm"] = _errors_alarm(logical_id, name)
        if any(e["Type"] == "DynamoDB" for e in function["Properties"].get("Events", {}).values()):
            resources[f"{logical_id}IteratorAgeAlarm"] = _iterator_age_alarm(logical_id, name)
    return template


# A preflight from the back office's origin (CloudFront, deploy.yaml) is answered with that origin instead of
# the storefront's: API Gateway's mock OPTIONS integration sends one fixed Access-Control-Allow-Origin, so its
# response template overrides it when the request's Origin is the back office's (what handlers/rendering.py
# does for the API's own answers).
ADMIN_PREFLIGHT = (
    "#set($origin = $input.params().header.get('Origin'))\n"
    "#if(\"$!origin\" == \"\")#set($origin = $input.params().header.get('origin'))#end\n"
    "#if(\"$!origin\" == \"https://${AdminDistribution.DomainName}\")\n"
    "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)\n"
    "#set($context.responseOverride.header.Vary = \"Origin\")\n"
    "#end\n")


def admin_preflight(swagger: dict) -> None:
    for methods in swagger["paths"].values():
        options = methods.get("options")
        if options:
            response = options["x-amazon-apigateway-integration"]["responses"]["default"]
            response["responseTemplates"] = {"application/json": {"Fn::Sub": ADMIN_PREFLIGHT}}
            options.setdefault("responses", {}).setdefault("200", {}).setdefault("headers", {}).setdefault(
                "Vary", {"type": "string"})


def customer_authorizer(swagger: dict) -> None:
    """The Cognito user pool authorizer, and its use on every customer route (CUSTOMER_PATH)."""
    swagger.setdefault("securityDefinitions", {})[CUSTOMER_AUTHORIZER] = {
        "type": "apiKey", "name": "Authorization", "in": "header",
        "x-amazon-apigateway-authtype": "cognito_user_pools",
        "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
                                           "providerARNs": [{"Fn::GetAtt": ["CustomerPool", "Arn"]}]}}
    for path, methods in swagger["paths"].items():
        if CUSTOMER_PATH.match(path):
            for method, operation in methods.items():
                if method != "options":
                    operation["security"] = [{CUSTOMER_AUTHORIZER: []}]


def _iterator_age_alarm(logical_id: str, name: str) -> dict:
    """The relay retries a failing batch STREAM_RETRIES times, which holds back the later changes
    on that shard meanwhile: page someone when it falls far behind (a stuck or slow relay)."""
    alarm = _errors_alarm(logical_id, name)
    alarm["Properties"].update({
        "AlarmName": {"Fn::Sub": f"commerce-${{Stage}}-{name}-iterator-age"},
        "AlarmDescription": f"{name} is more than 10 minutes behind the table's stream: records keep failing "
                            "(see its log) or it is too slow, and order messages are held back.",
        "MetricName": "IteratorAge", "Statistic": "Maximum", "Threshold": 600_000})
    return alarm


def _configure(props: dict, name: str, stage: str) -> None:
    """Secrets as SSM parameter names of this stage only; the stack's resources; a fixed name."""
    variables = props.setdefault("Environment", {}).setdefault("Variables", {})
    leaked = sorted(set(variables) & set(SECRETS))
    if leaked:
        raise SystemExit(f"{name}: {', '.join(leaked)} must come from SSM (set {leaked[0]}_PARAM), "
                         "not from .chalice/config.json")
    for variable, value in variables.items():
        if variable.endswith("_PARAM") and not value.startswith(f"/commerce/{stage}/"):
            raise SystemExit(f"{name}: {variable}={value} is not a parameter of the {stage} stage")
    variables.update(STACK_ENVIRONMENT)
    props["FunctionName"] = {"Fn::Sub": f"commerce-${{Stage}}-{name}"}


def _wire_events(props: dict, name: str, queues: dict[str, str]) -> None:
    """Point the stream and SQS mappings at this stack's table and queues."""
    for event in props.get("Events", {}).values():
        if event["Type"] == "DynamoDB":
            event["Properties"]["Stream"] = {"Fn::GetAtt": ["Table", "StreamArn"]}
            # A failing batch is split in halves until the failing record stands alone, so the
            # records around it are relayed; after STREAM_RETRIES more failures it is set aside in
            # StreamFailureQueue (shard and sequence numbers; its alarm fires, tools/dlq.py replays
            # it) and the shard moves on, instead of holding back every later change for 24 h.
            event["Properties"].update({
                "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": STREAM_RETRIES,
                "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}}}})
        elif event["Type"] == "SQS":
            queue_name = _queue_name_of(event["Properties"]["Queue"])
            if queue_name not in queues:
                raise SystemExit(f"{name} consumes {queue_name}, which infra/template.yaml does not define "
                                 f"(it has {', '.join(sorted(queues))})")
            event["Properties"]["Queue"] = {"Fn::GetAtt": [queues[queue_name], "Arn"]}
            # The consumers answer {"batchItemFailures": [...]} (chalicelib/handlers/queues.py);
            # without this Lambda ignores it and deletes a partly failed batch.
            event["Properties"]["FunctionResponseTypes"] = ["ReportBatchItemFailures"]


def _own_log_group(resources: dict, logical_id: str, name: str) -> str:
    """A log group with the stage's retention, created before the function, so Lambda never makes
    one that keeps logs forever. Returns its logical id."""
    log_group = f"{logical_id}LogGroup"
    resources[log_group] = {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": {"Fn::Sub": f"/aws/lambda/commerce-${{Stage}}-{name}"},
        "RetentionInDays": {"Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogRetentionDays"]}}}
    function = resources[logical_id]
    function["DependsOn"] = sorted({*function.get("DependsOn", []), log_group})
    return log_group


def _finish_policies(role: dict, log_group: str) -> None:
    """The policy file's `${...}` references resolved by CloudFormation, plus writing to the
    function's own log group (and no other CloudWatch Logs access)."""
    for policy in role["Properties"]["Policies"]:
        document = policy["PolicyDocument"] = _sub(policy["PolicyDocument"])
        document["Statement"].append({
            "Sid": "OwnLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [{"Fn::GetAtt": [log_group, "Arn"]}]})


def build(stage: str, out: Path) -> Path:
    stages = json.loads(CONFIG.read_text())["stages"]
    if stage not in stages:
        raise SystemExit(f"no stage {stage!r} in {CONFIG} (there are {', '.join(stages)})")
    started = time.monotonic()
    merge_template = deep_merge(load_yaml(INFRA / "template.yaml"), load_yaml(INFRA / "deploy.yaml"))
    out.mkdir(parents=True, exist_ok=True)
    chalice_package(stage, out, merge_template)
    compiled = precompile(out / "deployment.zip")
    sam = out / "sam.json"
    sam.write_text(json.dumps(finish(json.loads(sam.read_text()), stage), indent=2) + "\n")
    size = (out / "deployment.zip").stat().st_size
    print(f"{sam} and deployment.zip ({size / 1e6:.1f} MB zipped, {compiled} modules precompiled) in "
          f"{time.monotonic() - started:.1f} s")
    return sam


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", type=Path, help="default: build/<stage>")
    args = parser.parse_args(argv)
    build(args.stage, args.out or ROOT / "build" / args.stage)


if __name__ == "__main__":
    main()
