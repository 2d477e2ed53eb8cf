INSERT INTO country (name) VALUES ('France'), ('Germany'), ('Japan');
INSERT INTO city VALUES (1, 1, 'Paris'), (2, 2, 'Berlin'), (3, 3, 'Kyoto');
INSERT INTO station VALUES ('PAR-01', 'Montsouris'), ('BER-07', 'Tempelhof'), ('KYO-2', 'Kamo');
INSERT INTO measurement (city_id, station_code, logged, value) VALUES
    (1, 'PAR-01', '2023-05-01', 12.5), (2, 'BER-07', '2024-02-01', -3.25),
    (3, 'KYO-2', '2023-12-31', NULL), (1, 'PAR-01', '2024-07-14', 30.00);
INSERT INTO item (price, quantity) VALUES (2.50, 4), (10.00, 1), (0.99, 100);
INSERT INTO invoice (item_id, note) VALUES (1, 'first'), (3, NULL), (2, 'third');
INSERT INTO note VALUES (1, 'plain'), (3, 'also plain');
INSERT INTO urgent_note VALUES (2, 'now', 5);
INSERT INTO audit_line VALUES
    ('2024-01-01 10:00:00', 'boot', 1), ('2024-01-01 10:00:00', 'boot', 1),
    ('2023-12-31 23:59:59.5', NULL, NULL), ('2024-01-01 09:00:00', 'zeta', 2);
INSERT INTO other.shop (city_id, name) VALUES (1, 'Left Bank'), (NULL, 'Online');
INSERT INTO other.supplier VALUES (1, 'Acme');
INSERT INTO stock VALUES (1, 1, 5), (2, 3, 70), (1, 2, 0);
