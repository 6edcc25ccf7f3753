#!/usr/bin/env python3
"""Build the spoken-commands demo set shipped in examples/data/speech_commands/.

Task: given a one-second clip, say which of six command words is spoken (keyword recognition, 6 classes).

Source: speech synthesised on this machine with espeak-ng (Debian package ``espeak-ng``, GPL-3.0-or-later; its
output audio is not covered by the program's licence), mixed with noise this script generates (pink, brown,
mains hum). Nothing is downloaded.

    apt-get install -y espeak-ng
    python scripts/make_speech_commands.py     # writes examples/data/speech_commands/<word>/<voice>_nohash_<k>.flac

How clips are made: for every word and voice, --per-voice clips (default 5) each draw, with
numpy.random.default_rng(--seed) (default 0), a speed (120-200 words per minute), a pitch (20-80), a noise kind
and an SNR from --snrs (default 5, 10, 20 dB). espeak-ng writes 22,050 Hz WAV; the clip is resampled to
16 kHz (librosa/soxr), trimmed of leading/trailing silence, placed at a random offset in one second of audio
(cropped to one second if longer), peak-normalised to -3 dBFS with the noise at the drawn SNR relative to the
speech's power, and written as 16-bit mono FLAC. The file name's part before ``_nohash_`` is the voice (Google
Speech Commands' convention for the speaker), which the loader uses to hold out whole voices for the test split.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

WORDS = ("yes", "no", "up", "down", "left", "right")
VOICES = ("en-gb+m1", "en-us+f2", "en-gb-scotland+m3", "en-gb-x-rp+f4", "en-029+m2", "en-gb-x-gbclan+f1",
          "en-us+m4", "en-gb-x-gbcwmd+f3")
RATE = 16_000
NOISES = ("pink", "brown", "hum")


def _espeak(text: str, voice: str, speed: int, pitch: int, tmp: Path) -> np.ndarray:
    """espeak-ng's rendering of `text`, mono float32 at RATE Hz, silence trimmed."""
    import librosa
    import soundfile as sf

    out = tmp / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), text],
                   check=True, capture_output=True)
    audio, sr = sf.read(out, dtype="float32", always_2d=True)
    audio = librosa.resample(audio.mean(axis=1), orig_sr=sr, target_sr=RATE)
    trimmed, _ = librosa.effects.trim(audio, top_db=35)
    return trimmed


def _noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-power noise: pink (1/f), brown (1/f^2) or a 50 Hz mains hum with harmonics plus a little hiss."""
    if kind == "hum":
        t = np.arange(n) / RATE
        hum = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 2 * np.pi)) / k for k in (1, 2, 3, 5))
        x = hum + 0.1 * rng.standard_normal(n)
    else:
        spectrum = np.fft.rfft(rng.standard_normal(n))
        f = np.maximum(np.fft.rfftfreq(n, 1 / RATE), 20.0)
        x = np.fft.irfft(spectrum / (f ** (0.5 if kind == "pink" else 1.0)), n)
    return (x / np.sqrt(np.mean(x ** 2))).astype(np.float32)


def _clip(speech: np.ndarray, kind: str, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """One second: speech at a random offset, noise at `snr_db` below the speech's power, peak at -3 dBFS."""
    if len(speech) > RATE:
        start = (len(speech) - RATE) // 2
        speech = speech[start:start + RATE]
    out = np.zeros(RATE, dtype=np.float32)
    offset = int(rng.integers(0, RATE - len(speech) + 1))
    out[offset:offset + len(speech)] = speech
    power = float(np.mean(speech ** 2))
    out += _noise(kind, RATE, rng) * np.sqrt(power / 10 ** (snr_db / 10))
    return (out / max(float(np.abs(out).max()), 1e-9) * 10 ** (-3 / 20)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples/data/speech_commands"))
    parser.add_argument("--per-voice", type=int, default=5, help="clips per word and voice")
    parser.add_argument("--snrs", type=float, nargs="+", default=[5.0, 10.0, 20.0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import soundfile as sf

    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng not found: apt-get install -y espeak-ng")
    rng = np.random.default_rng(args.seed)
    if args.out.exists():
        shutil.rmtree(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        for word in WORDS:
            (args.out / word).mkdir(parents=True)
            for voice in VOICES:
                for k in range(args.per_voice):
                    speed, pitch = int(rng.integers(120, 201)), int(rng.integers(20, 81))
                    kind, snr = NOISES[int(rng.integers(len(NOISES)))], float(rng.choice(args.snrs))
                    clip = _clip(_espeak(word, voice, speed, pitch, Path(tmp)), kind, snr, rng)
                    name = f"{voice.replace('+', '-')}_nohash_{k}.flac"
                    sf.write(args.out / word / name, clip, RATE, subtype="PCM_16", format="FLAC")
    files = sorted(args.out.rglob("*.flac"))
    size = sum(p.stat().st_size for p in files)
    print(f"wrote {len(files)} clips ({size / 1e6:.1f} MB) to {args.out}")


if __name__ == "__main__":
    main()
