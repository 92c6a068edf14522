import type { ImageMime } from '../chat/images';

/**
 * What the REST API reads, named by every refusal (the header check's, through apiChatSettings, the decode
 * check's) and by its OpenAPI document. The page decodes BMP with the browser; in Node both engines decode with
 * sharp, which has no BMP reader.
 */
export const API_IMAGE_TYPES: readonly ImageMime[] = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'];
export const API_READER = 'The REST API';
