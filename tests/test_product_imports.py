"""CSV import and export of products and stock: every row validated first (row and column of each
error, nothing written), then applied; the same file twice changes nothing; export → import round trip."""

from tests.conftest import ADMIN, make_product

HEADER = "product_id,product_title,description,active,sku,variant_title,price,currency,on_hand,low_stock_threshold\n"


def upload(api, text: str):
    return api.post("/admin/products/import", {"csv": text}, headers=ADMIN)


def catalogue(api) -> dict:
    return {p["title"]: p for p in api.get("/products?limit=100").data["data"]}


def test_an_import_with_errors_reports_each_by_row_and_column_and_writes_nothing(client):
    owner = make_product(client, sku_prefix="TEE", price=2500, on_hand=5)
    text = HEADER + (
        ",Poster,,true,POSTER-A2,A2,1500,EUR,10,3\n"
        ",Poster,,true,POSTER-A1,A1,lots,EUR,10,\n"        # row 3: price
        ",Cap,,maybe,CAP-1,,900,XXX,-1,\n"                 # row 4: active, currency, on_hand
        ",Mug,,true,TEE-S,,900,EUR,1,\n"                   # row 5: a SKU of another product
        ",Poster,,true,POSTER-A2,A2,1500,EUR,10,\n"        # row 6: the same SKU twice
    )
    answer = upload(client, text)
    assert answer.status_code == 400, answer.data
    error = answer.data["error"]
    assert (error["code"], error["param"]) == ("invalid_request", "csv")
    assert [(e["row"], e["column"]) for e in error["rows"]] == [
        (3, "price"), (4, "active"), (4, "currency"), (4, "on_hand"), (6, "sku")]
    assert "Poster" not in catalogue(client)
    # Once the cells are right, the catalogue's own checks: SKU of another product.
    fixed = HEADER + ",Poster,,true,POSTER-A2,A2,1500,EUR,10,3\n,Mug,,true,TEE-S,,900,EUR,1,\n"
    answer = upload(client, fixed)
    assert answer.status_code == 400
    assert [(e["row"], e["column"]) for e in answer.data["error"]["rows"]] == [(3, "sku")]
    assert owner["id"] in answer.data["error"]["rows"][0]["message"]
    assert set(catalogue(client)) == {"T-shirt"}
    missing = upload(client, "sku,price\nA,1\n")
    assert missing.status_code == 400
    assert {e["column"] for e in missing.data["error"]["rows"]} >= {"product_title", "currency", "on_hand"}


def test_a_good_import_creates_and_updates_products_and_the_same_file_again_changes_nothing(client):
    tee = make_product(client, sku_prefix="TEE", price=2500, on_hand=5)
    text = HEADER + (
        ",Poster,Big print,true,POSTER-A2,A2,1500,EUR,10,3\n"
        ",Poster,Big print,true,POSTER-A1,A1,2500,EUR,4,\n"
        f"{tee['id']},T-shirt,,true,TEE-S,S,2600,EUR,8,2\n"
        f"{tee['id']},T-shirt,,true,TEE-M,M,2600,EUR,9,\n"
    )
    answer = upload(client, text)
    assert answer.status_code == 200, answer.data
    assert (answer.data["rows"], answer.data["products_created"], answer.data["products_updated"]) == (4, 1, 1)
    products = catalogue(client)
    poster = products["Poster"]
    assert [(v["sku"], v["price"], v["available"]) for v in poster["variants"]] == [
        ("POSTER-A2", 1500, 10), ("POSTER-A1", 2500, 4)]
    assert [(v["sku"], v["price"]) for v in products["T-shirt"]["variants"]] == [("TEE-S", 2600), ("TEE-M", 2600)]
    levels = client.get("/admin/inventory?skus=POSTER-A2,TEE-S,TEE-M", headers=ADMIN).data["data"]
    assert [(s["sku"], s["on_hand"], s["low_stock_threshold"]) for s in levels] == [
        ("POSTER-A2", 10, 3), ("TEE-S", 8, 2), ("TEE-M", 9, None)]

    again = upload(client, text)
    assert again.status_code == 200, again.data
    assert (again.data["import_id"], again.data["products_created"]) == (answer.data["import_id"], 0)
    assert catalogue(client) == products

    exported = client.get("/admin/products/export", headers=ADMIN)
    assert exported.status_code == 200, exported.data
    lines = exported.data["csv"].splitlines()
    assert lines[0] + "\n" == HEADER and exported.data["rows"] == len(lines) - 1 == 4
    assert f"{poster['id']},Poster,Big print,true,POSTER-A2,A2,1500,EUR,10,3" in lines
    round_trip = upload(client, exported.data["csv"])
    assert (round_trip.data["products_created"], round_trip.data["products_updated"]) == (0, 2)
    assert client.get("/admin/products/export").status_code == 401


def test_a_file_that_is_not_csv_is_a_400_naming_csv(client):
    answer = upload(client, HEADER + ',Mug,,true,MUG-1,,"900,EUR,1,\n\x00')
    assert answer.status_code == 400, answer.data
    assert answer.data["error"]["param"] == "csv"
