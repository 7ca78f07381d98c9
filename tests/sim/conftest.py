import pytest


@pytest.fixture(scope="session")
def item_params(library):
    from workbench.sim import demo_item_params

    return demo_item_params(library, 7)
