

def test_dates_from_json_payloads_are_written_out_in_norwegian():
    from mailbot.compose import Templates

    env = Templates().env
    text = env.from_string("{{ d|date }} / {{ e|datetime }}").render(
        d="2023-03-01", e="2023-03-01T18:00:00+01:00", lang="nb", timezone="Europe/Oslo")
    assert text == "onsdag 1. mars 2023 / onsdag 1. mars kl. 18.00"
