"""Procedural street scenes with pixel labels, for the bundled default model.

Six classes, coloured as in Cityscapes: road, building, vegetation, sky, car, person. Each scene
has a sky above a random horizon, buildings with window grids and trees along it, a road in
perspective with lane marks, cars on the road and person-like figures (head, body, legs).
"""

import numpy as np

CLASSES = ["road", "building", "vegetation", "sky", "car", "person"]
PALETTE = [(128, 64, 128), (70, 70, 70), (107, 142, 35), (70, 130, 180), (0, 0, 142), (220, 20, 60)]
ROAD, BUILDING, VEGETATION, SKY, CAR, PERSON = range(6)


def _fill(image, label, mask, colour, cls, rng, noise=12):
    jitter = rng.normal(0, noise, size=(int(mask.sum()), 3))
    image[mask] = np.clip(np.array(colour, dtype=np.float32) + jitter, 0, 255)
    label[mask] = cls


def scene(rng, height=128, width=256):
    """Returns (image uint8 HxWx3, label uint8 HxW)."""
    image = np.zeros((height, width, 3), np.float32)
    label = np.zeros((height, width), np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    horizon = int(height * rng.uniform(0.35, 0.5))

    sky_top = np.array([rng.uniform(60, 110), rng.uniform(120, 170), rng.uniform(190, 240)])
    for y in range(horizon + 1):
        t = y / max(horizon, 1)
        image[y, :] = sky_top * (1 - t) + np.array([200, 215, 235]) * t
    label[: horizon + 1] = SKY
    image[: horizon + 1] += rng.normal(0, 4, size=(horizon + 1, width, 1))

    # The band between horizon and road: buildings and trees standing on the ground line.
    ground = horizon + int(height * rng.uniform(0.12, 0.2))
    ground_mask = (yy > horizon) & (yy <= ground)
    _fill(image, label, ground_mask, (110, 110, 100), BUILDING, rng, 10)  # building bases / walls
    x = -rng.integers(0, 20)
    while x < width:
        w = int(rng.integers(25, 70))
        if rng.uniform() < 0.65:
            top = int(rng.integers(max(5, horizon - 45), horizon + 5))
            mask = (xx >= x) & (xx < x + w) & (yy >= top) & (yy <= ground)
            colour = rng.choice([(120, 120, 125), (150, 120, 100), (95, 90, 85), (170, 160, 140)])
            _fill(image, label, mask, colour, BUILDING, rng, 8)
            for wy in range(top + 4, ground - 6, 9):  # windows stay building
                for wx in range(x + 3, x + w - 6, 8):
                    win = (xx >= wx) & (xx < wx + 4) & (yy >= wy) & (yy < wy + 5) & mask
                    image[win] = rng.uniform(30, 200)
        else:
            cx, cy, r = x + w // 2, int(rng.integers(horizon - 25, horizon + 5)), int(rng.integers(12, 24))
            canopy = (xx - cx) ** 2 + ((yy - cy) * 1.2) ** 2 <= r * r
            trunk = (abs(xx - cx) <= 2) & (yy >= cy) & (yy <= ground)
            _fill(image, label, canopy | trunk, (60, 120, 40), VEGETATION, rng, 18)
            image[trunk] = (90, 60, 30)
        x += w

    # Road in perspective from the ground line to the bottom, with lane marks (still road).
    road_mask = yy > ground
    _fill(image, label, road_mask, (90, 88, 92), ROAD, rng, 8)
    for y in range(ground + 2, height, 6):
        half = 1 + (y - ground) // 20
        mark = (abs(xx - width // 2) <= half) & (yy >= y) & (yy < y + 3)
        image[mark] = (230, 230, 220)

    objects = []
    for _ in range(int(rng.integers(1, 4))):  # cars
        bottom = int(rng.integers(ground + 8, height - 2))
        scale = 0.5 + (bottom - ground) / max(height - ground, 1)
        w, h = int(46 * scale), int(22 * scale)
        x0 = int(rng.integers(-w // 3, width - w // 2))
        objects.append((bottom, "car", x0, w, h))
    for _ in range(int(rng.integers(1, 5))):  # persons
        bottom = int(rng.integers(ground + 2, height - 2))
        scale = 0.6 + (bottom - ground) / max(height - ground, 1)
        w, h = int(10 * scale), int(36 * scale)
        x0 = int(rng.integers(0, width - w))
        objects.append((bottom, "person", x0, w, h))
    for bottom, kind, x0, w, h in sorted(objects):  # far objects first
        top = bottom - h
        if kind == "car":
            body = (xx >= x0) & (xx < x0 + w) & (yy >= top + h // 3) & (yy < bottom - 2)
            cabin = (xx >= x0 + w // 5) & (xx < x0 + 4 * w // 5) & (yy >= top) & (yy < top + h // 3 + 1)
            wheels = (((xx - (x0 + w // 4)) ** 2 + (yy - (bottom - 3)) ** 2) <= (h // 5) ** 2) | \
                     (((xx - (x0 + 3 * w // 4)) ** 2 + (yy - (bottom - 3)) ** 2) <= (h // 5) ** 2)
            colour = tuple(int(c) for c in rng.integers(20, 235, 3))
            _fill(image, label, body | cabin | wheels, colour, CAR, rng, 10)
            image[wheels] = (20, 20, 20)
            image[cabin & (yy > top + 1) & (xx > x0 + w // 5 + 1) & (xx < x0 + 4 * w // 5 - 1)] = (140, 170, 190)
        else:
            cx = x0 + w // 2
            head = (xx - cx) ** 2 + (yy - (top + w // 2)) ** 2 <= (w // 2) ** 2
            torso = (abs(xx - cx) <= w // 2) & (yy >= top + w) & (yy < top + int(h * 0.6))
            legs = ((abs(xx - (cx - w // 4)) <= max(1, w // 6)) | (abs(xx - (cx + w // 4)) <= max(1, w // 6))) & \
                   (yy >= top + int(h * 0.6)) & (yy < bottom)
            colour = tuple(int(c) for c in rng.integers(20, 235, 3))
            _fill(image, label, torso, colour, PERSON, rng, 10)
            _fill(image, label, legs, (40, 40, 60), PERSON, rng, 10)
            _fill(image, label, head, (225, 180, 150), PERSON, rng, 10)
    image *= rng.uniform(0.8, 1.15)
    return np.clip(image, 0, 255).astype(np.uint8), label
