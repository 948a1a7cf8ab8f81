# corpus: ThreadPoolExecutor: main writes before submit, the task writes, main writes after result(), then a second task
# expect: none

from concurrent.futures import ThreadPoolExecutor

CACHE = {}


def task(key, suffix):
    CACHE[key] = CACHE[key] + suffix
    return CACHE[key]


def square(n):
    CACHE["sq%d" % n] = n * n  # distinct key per task
    return n * n


def main():
    with ThreadPoolExecutor(max_workers=4) as pool:
        CACHE["k"] = "main"
        first = pool.submit(task, "k", "+t1").result()  # task -> result()
        CACHE["k"] = first + "+main"
        second = pool.submit(task, "k", "+t2").result()  # submit -> task
        squares = list(pool.map(square, range(4)))
    total = sum(CACHE["sq%d" % n] for n in range(4))
    print(second, squares, total)


if __name__ == "__main__":
    main()
