"""The flash-sale simulation (bench/flash_sale.py): pure Python, no AWS."""

from bench.flash_sale import Settings, simulate


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    first = simulate(Settings(shards=4, arrivals_per_second=400, seconds=2, seed=3)).summary()
    again = simulate(Settings(shards=4, arrivals_per_second=400, seconds=2, seed=3)).summary()
    other = simulate(Settings(shards=4, arrivals_per_second=400, seconds=2, seed=4)).summary()
    assert first == again
    assert first != other


def test_checkouts_per_second_rise_with_the_shards_of_a_hot_sku():
    rates = [simulate(Settings(shards=n, arrivals_per_second=1000, seconds=2)).checkouts_per_second
             for n in (1, 4, 16)]
    assert rates[0] * 2.5 < rates[1]
    assert rates[1] * 2 < rates[2]
    assert rates[0] < 60  # one item: about one transaction per transaction time (20 ms)


def test_a_quiet_sku_on_one_item_sees_almost_no_conflicts():
    quiet = simulate(Settings(shards=1, arrivals_per_second=2, seconds=60)).summary()
    assert quiet["gave_up"] == 0
    assert quiet["conflicts_per_checkout"] < 0.1


def test_a_sell_out_over_shards_sells_every_unit_and_never_more():
    result = simulate(Settings(shards=16, arrivals_per_second=1000, seconds=3, stock=500))
    assert result.sold == 500
    assert result.sold_out > 0
    assert result.fallbacks > 0  # some buyers found their shard emptied and took units from another
