"""Deploying the back office: the packaged template's bucket and CloudFront distribution, the
functions' ADMIN_ORIGIN, and infra/admin_site.py's upload against moto's S3."""

import json

import boto3
from moto import mock_aws

from infra import admin_site
from tests.test_package import packaged, stage, template  # noqa: F401 - fixtures


def test_the_back_office_is_a_private_bucket_served_only_through_cloudfront(template):  # noqa: F811
    resources = template["Resources"]
    bucket = resources["AdminBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    config = resources["AdminDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["Origins"][0]["OriginAccessControlId"] == {"Fn::GetAtt": ["AdminOriginAccessControl", "Id"]}
    statement = resources["AdminBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert "AWS:SourceArn" in statement["Condition"]["StringEquals"]
    for name in ("AdminBucketName", "AdminDistributionId", "AdminUrl", "ApiBaseUrl"):
        assert name in template["Outputs"]
    api = next(r for r in resources.values() if r["Type"] == "AWS::Serverless::Function"
               and r["Properties"]["Handler"] == "app.app")
    assert api["Properties"]["Environment"]["Variables"]["ADMIN_ORIGIN"] == {
        "Fn::Sub": "https://${AdminDistribution.DomainName}"}


@mock_aws
def test_the_upload_writes_config_json_caches_only_hashed_assets_and_removes_stale_files(tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html>")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="admin-files")
    s3.put_object(Bucket="admin-files", Key="assets/index-old.js", Body=b"old")

    admin_site.write_config(dist, "https://api.example.com/api/")
    keys = admin_site.upload(s3, "admin-files", dist)

    assert keys == ["assets/index-abc123.js", "config.json", "index.html"]
    listed = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="admin-files")["Contents"])
    assert listed == keys
    config = s3.get_object(Bucket="admin-files", Key="config.json")
    assert json.loads(config["Body"].read()) == {"apiBaseUrl": "https://api.example.com/api"}
    assert config["CacheControl"] == "no-cache"
    asset = s3.head_object(Bucket="admin-files", Key="assets/index-abc123.js")
    assert asset["CacheControl"].endswith("immutable")
    assert asset["ContentType"] == "text/javascript"
