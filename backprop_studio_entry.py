"""The `backprop-studio` console script: the same as `python main.py`."""
import os
import sys


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    from main import main as real_main
    return real_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
