import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from 'src/common/sha256';
import { compareManifestPaths, FileDigest } from 'src/attestation/sigstore/in-toto';
import { SigningError, SigningErrorCode } from 'src/attestation/sigstore/signing.errors';

/** The signature's own file name inside the signed folder, as model_signing names it. */
export const MODEL_SIGNATURE_FILE = 'model.sig';

/** What `model_signing sign` leaves out by default: its signature file and git's files. */
export const DEFAULT_IGNORE_PATHS = [MODEL_SIGNATURE_FILE, '.git', '.gitattributes', '.github', '.gitignore'];

/**
 * The regular files of a model folder as relative POSIX paths in manifest order, leaving out `ignorePaths`
 * (relative paths; an ignored folder takes its contents with it). Symlinks and special files are refused, as
 * model_signing refuses them unless told to follow symlinks.
 */
export async function listModelFiles(folder: string, ignorePaths: readonly string[]): Promise<string[]> {
  const root = await lstat(folder).catch(() => undefined);
  if (!root?.isDirectory()) {
    throw new SigningError(
      SigningErrorCode.UNSUPPORTED_FILE,
      `${folder} is not a folder (symlinks are refused)`,
    );
  }
  const ignored = ignorePaths.map(normalizeRelativePath);
  const files: string[] = [];
  const visit = async (relativeFolder: string): Promise<void> => {
    const entries = await readdir(join(folder, relativeFolder), { withFileTypes: true });
    for (const entry of entries) {
      const path = relativeFolder ? `${relativeFolder}/${entry.name}` : entry.name;
      if (ignored.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) continue;
      if (entry.isDirectory()) await visit(path);
      else if (entry.isFile()) files.push(path);
      else {
        const kind = entry.isSymbolicLink() ? 'a symlink' : 'not a regular file';
        throw new SigningError(SigningErrorCode.UNSUPPORTED_FILE, `${path} is ${kind}`, { path });
      }
    }
  };
  await visit('');
  return files.sort(compareManifestPaths);
}

/** Every file of the folder (see `listModelFiles`) with its SHA-256, read one at a time as a stream. */
export async function hashModelFolder(folder: string, ignorePaths: readonly string[]): Promise<FileDigest[]> {
  const files = await listModelFiles(folder, ignorePaths);
  if (files.length === 0) {
    throw new SigningError(SigningErrorCode.UNSUPPORTED_FILE, `${folder} has no files to sign`);
  }
  const digests: FileDigest[] = [];
  for (const path of files) digests.push({ path, sha256: await sha256File(join(folder, path)) });
  return digests;
}

/**
 * A path a signature may name: relative, POSIX separators, no empty, "." or ".." parts. Anything else could
 * make a verifier read outside the folder.
 */
export const isSafeRelativePath = (path: string): boolean =>
  path.length > 0 && !path.includes('\\') && path.split('/').every((part) => !['', '.', '..'].includes(part));

/** "./.git/" -> ".git", so ignore entries compare with listed paths. */
const normalizeRelativePath = (path: string): string =>
  path
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
