/** 5 MB: the upload limit of API.md, enforced on the bytes as they arrive. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
