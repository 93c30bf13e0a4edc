import tempaug


def test_version():
    assert tempaug.__version__.count(".") == 2
