-- Job images are built and held by each node (`airlock image build`, src/images) and resolved there by
-- name, so the catalog's per-image `source` (a rootfs folder, or '' for the node's own root
-- filesystem) is gone: no job runs on a node's root filesystem any more. The default image of a
-- fresh installation was called 'default' (meaning that root filesystem); it is now 'debian-12',
-- the image every node builds first. Nodes report their images again at their next hello.
ALTER TABLE images DROP COLUMN source;
UPDATE images SET name = 'debian-12'
 WHERE name = 'default' AND NOT EXISTS (SELECT 1 FROM images WHERE name = 'debian-12');
UPDATE nodes SET images = array_replace(images, 'default', 'debian-12');
