"""The Swift engine's generators, bit for bit, so a bridge run draws and shuffles exactly as `xright train` would.

xoshiro256** (Blackman & Vigna, 2018) seeded through SplitMix64 (Sources/Training/SeededGenerator.swift for
ALRIGHT's draws, Sources/Engine/SeededRandom.swift for batch shuffles).
"""

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def _splitmix(state):
    """One SplitMix64 step: returns (new state, output)."""
    state = (state + GOLDEN) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro256:
    """xoshiro256**; `state` is four 64-bit words (stored in checkpoints as hex, like the Swift side)."""

    def __init__(self, seed=None, stream=None, state=None):
        if state is not None:
            if len(state) != 4 or not any(state):
                raise ValueError(f"xoshiro256** needs four words, not all zero; got {state}")
            self.state = [w & MASK for w in state]
            return
        seed = (seed or 0) & MASK
        if stream is not None:
            # SeededGenerator(seed:stream:): a generator per purpose derived from the run seed.
            mixer = seed ^ ((stream * GOLDEN) & MASK)
            _, seed = _splitmix(mixer)
        words, s = [], seed
        for _ in range(4):
            s, out = _splitmix(s)
            words.append(out)
        self.state = words

    def next(self):
        s = self.state
        result = (_rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def next_unit_interval(self):
        """Uniform in [0, 1) with 53 random bits."""
        return (self.next() >> 11) * (2.0 ** -53)

    def hex_state(self):
        return [format(w, "x") for w in self.state]


def alright_generator(seed, step):
    """ALRIGHT's stream for a strategy started at `step` (StrategyFactory.make: stream 0xA10000 + step)."""
    return Xoshiro256(seed=seed, stream=0xA10000 + step)


def epoch_order(count, shuffle_seed, epoch):
    """ShuffledBatches' per-epoch order: Fisher–Yates with SeededRandom(seed: shuffleSeed + epoch·golden)."""
    rng = Xoshiro256(seed=(shuffle_seed + ((epoch * GOLDEN) & MASK)) & MASK)
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        j = rng.next() % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order
