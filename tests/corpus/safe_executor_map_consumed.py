# corpus: ThreadPoolExecutor.map: main writes each key before map(), the tasks update them, main reads and writes them only after consuming every result
# expect: none

# Each result the iterator yields comes from future.result(), which orders that
# task's writes before main's next steps; map() submits every task, so main's
# earlier writes come before each of them.

from concurrent.futures import ThreadPoolExecutor

SIZES = {}


def measure(name):
    SIZES[name] = SIZES[name] + len(name)
    return SIZES[name]


def main():
    names = ["alpha", "beta", "gamma", "delta"]
    for name in names:
        SIZES[name] = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(measure, names))  # consumed inside the with block
        for name in names:
            SIZES[name] = SIZES[name] * 10
    print(results, sorted(SIZES.items()))


if __name__ == "__main__":
    main()
