"""Run every benchmark: python -m benchmarks."""

from benchmarks import recommend_speed

if __name__ == "__main__":
    recommend_speed.main()
