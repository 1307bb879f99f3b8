# budget.test 1.0.0: each function breaks one budget on purpose; `ok`
# answers 7.
import polyplug


def recurse(n):
    return recurse(n + 1) + 1


@polyplug.export("budget.test", "1.0.0", "u32()")
def ok():
    return 7


@polyplug.export("budget.test", "1.0.0", "u32()")
def spin():
    while True:
        pass


@polyplug.export("budget.test", "1.0.0", "u32()", name="recurse")
def deep():
    return recurse(0)


@polyplug.export("budget.test", "1.0.0", "u32()", name="raise")
def raise_():
    raise ValueError("boom")


@polyplug.export("budget.test", "1.0.0", "u32()")
def stubborn():
    # Swallows the first budget exception: the watchdog raises again.
    try:
        while True:
            pass
    except polyplug.BudgetExceeded:
        while True:
            pass
